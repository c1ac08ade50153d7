import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import type { HeatServiceApi } from '../../../services/cloudsim/heat/service.js';
import { heatServices } from '../../../services/cloudsim/services-heat.js';
import { OpenStackHttpError } from '../../../services/common/openstack/errors.js';
import { HeatClient } from '../../../services/common/openstack/heat.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { WaitError } from '../../../services/common/openstack/wait.js';
import { fakeCinder, fakeNeutron, fakeNova, fakeStates, leftovers } from './heat-fakes.js';

let cloud: RunningCloud;
const sessions: KeystoneSession[] = [];

beforeAll(async () => {
  cloud = await startCloud({ services: [...heatServices, fakeNeutron, fakeNova, fakeCinder] });
});
afterAll(async () => {
  for (const s of sessions) await s.close();
  await cloud?.close();
});

function session(region = 'RegionOne', user: 'demo' | 'admin' = 'demo') {
  const s = new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: {
      type: 'password',
      username: user,
      password: user === 'demo' ? 'DEMO_PASS' : 'ADMIN_PASS',
      userDomainName: 'Default',
    },
    scope: { projectName: user, projectDomainName: 'Default' },
    regionName: region,
    interface: 'public',
  });
  sessions.push(s);
  return s;
}

const heat = (region = 'RegionOne', user: 'demo' | 'admin' = 'demo') => new HeatClient(session(region, user));
const fast = { intervalMs: 50, maxIntervalMs: 200, timeoutMs: 20_000 };

const APP = {
  heat_template_version: '2018-08-31',
  description: 'A server with a port, a security group and a data volume',
  parameters: {
    cidr: { type: 'string', default: '10.0.0.0/24' },
    size: { type: 'number', default: 1, constraints: [{ range: { min: 1, max: 1000 } }] },
    flavor: { type: 'string', default: 'm1.tiny' },
  },
  resources: {
    net: { type: 'OS::Neutron::Net', properties: { name: 'app-net' } },
    subnet: {
      type: 'OS::Neutron::Subnet',
      properties: { name: 'app-subnet', network: { get_resource: 'net' }, cidr: { get_param: 'cidr' } },
    },
    sg: {
      type: 'OS::Neutron::SecurityGroup',
      properties: { name: 'app-sg', rules: [{ protocol: 'tcp', port_range_min: 22, port_range_max: 22 }] },
    },
    port: {
      type: 'OS::Neutron::Port',
      properties: {
        name: 'app-port',
        network: { get_resource: 'net' },
        fixed_ips: [{ subnet: { get_resource: 'subnet' } }],
        security_groups: [{ get_resource: 'sg' }],
      },
    },
    vol: { type: 'OS::Cinder::Volume', properties: { name: 'app-vol', size: { get_param: 'size' } } },
    server: {
      type: 'OS::Nova::Server',
      properties: {
        name: 'app-vm',
        flavor: { get_param: 'flavor' },
        image: 'cirros',
        networks: [{ port: { get_resource: 'port' } }],
      },
    },
    attach: {
      type: 'OS::Cinder::VolumeAttachment',
      properties: {
        instance_uuid: { get_resource: 'server' },
        volume_id: { get_resource: 'vol' },
        mountpoint: '/dev/vdb',
      },
    },
  },
  outputs: {
    server_ip: { description: 'the VM address', value: { get_attr: ['server', 'first_address'] } },
    port_ip: { value: { get_attr: ['port', 'fixed_ips', 0, 'ip_address'] } },
    volume_size: { value: { get_attr: ['vol', 'size'] } },
    banner: {
      value: {
        str_replace: {
          template: 'vm $NAME at $IP',
          params: { $NAME: 'app-vm', $IP: { get_attr: ['server', 'first_address'] } },
        },
      },
    },
    ids: { value: { list_join: [',', [{ get_resource: 'net' }, { get_resource: 'vol' }]] } },
  },
};

const log = () => fakeStates.RegionOne.log;
const happensBefore = (a: string, b: string) => {
  const l = log();
  const i = l.findIndex((x) => x.startsWith(a));
  const j = l.findIndex((x) => x.startsWith(b));
  expect(i, `${a} logged`).toBeGreaterThanOrEqual(0);
  expect(j, `${b} logged`).toBeGreaterThanOrEqual(0);
  expect(i, `${a} before ${b} in ${l.join(' | ')}`).toBeLessThan(j);
};

describe('Heat simulator: a stack of network, subnet, port, security group, volume, server, attachment', () => {
  it('creates in dependency order, reports CREATE_COMPLETE with outputs, resources and events', async () => {
    log().length = 0;
    const h = heat();
    const created = await h.createStack({ name: 'app', template: APP, parameters: { size: 2 } });
    expect(created.links[0].href).toContain(`/stacks/app/${created.id}`);
    const first = await h.getStack({ name: 'app', id: created.id });
    expect(['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']).toContain(first.stack_status);

    const stack = await h.waitForStack('app', 'CREATE_COMPLETE', fast);
    expect(stack.id).toBe(created.id);
    expect(stack.stack_status_reason).toBe('Stack CREATE completed successfully');

    happensBefore('create network', 'create subnet');
    happensBefore('create subnet', 'create port');
    happensBefore('create security_group', 'create port');
    happensBefore('create port', 'create server');
    happensBefore('create server', 'create attachment');
    happensBefore('create volume', 'create attachment');

    const out = Object.fromEntries((stack.outputs ?? []).map((o) => [o.output_key, o.output_value]));
    expect(out.server_ip).toBe('10.0.0.10');
    // resolve_outputs=False (what pollers ask for): the status without evaluating the outputs.
    const bare = await h.findStack({ name: 'app', id: created.id }, { resolveOutputs: false });
    expect(bare?.stack_status).toBe('CREATE_COMPLETE');
    expect(bare?.outputs).toBeUndefined();
    expect(out.port_ip).toBe('10.0.0.10');
    expect(out.volume_size).toBe(2);
    expect(out.banner).toBe('vm app-vm at 10.0.0.10');
    const resources = await h.listResources({ name: 'app', id: stack.id });
    const byName = Object.fromEntries(resources.map((r) => [r.resource_name, r]));
    expect(out.ids).toBe(`${byName.net.physical_resource_id},${byName.vol.physical_resource_id}`);
    expect(await h.getOutput({ name: 'app', id: stack.id }, 'server_ip')).toBe('10.0.0.10');

    expect(resources).toHaveLength(7);
    for (const r of resources) expect(r.resource_status).toBe('CREATE_COMPLETE');
    expect(byName.net.required_by.sort()).toEqual(['port', 'subnet']);
    expect(byName.server.required_by).toEqual(['attach']);
    expect(byName.server.resource_type).toBe('OS::Nova::Server');
    expect(fakeStates.RegionOne.servers.has(byName.server.physical_resource_id)).toBe(true);
    expect(fakeStates.RegionOne.volumes.get(byName.vol.physical_resource_id)?.status).toBe('in-use');
    const port = fakeStates.RegionOne.ports.get(byName.port.physical_resource_id);
    expect(port?.security_groups).toEqual([byName.sg.physical_resource_id]);

    const vol = await h.getResource('app', 'vol');
    expect(vol.attributes?.size).toBe(2);
    expect(vol.physical_resource_id).toBe(byName.vol.physical_resource_id);

    const events = await h.listEvents('app');
    const statuses = events.map((e) => `${e.resource_name} ${e.resource_status}`);
    expect(statuses[0]).toBe('app CREATE_IN_PROGRESS');
    expect(statuses.at(-1)).toBe('app CREATE_COMPLETE');
    expect(statuses).toContain('server CREATE_IN_PROGRESS');
    expect(statuses).toContain('server CREATE_COMPLETE');
    const serverEvents = await h.listEvents('app', { resource: 'server' });
    expect(serverEvents.map((e) => e.resource_status)).toEqual(['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);

    const listed = await h.listStacks();
    expect(listed.map((s) => s.stack_name)).toContain('app');
    const template = await h.getTemplate({ name: 'app', id: stack.id });
    expect(template.description).toBe(APP.description);
  });

  it('answers a lookup by name with 302 to /stacks/{name}/{id}, as Heat does', async () => {
    const s = session();
    const h = new HeatClient(s);
    const stack = await h.getStack('app');
    const base = await s.endpointFor('orchestration');
    for (const suffix of ['', '/resources']) {
      const res = await fetch(`${base}/stacks/app${suffix}`, {
        headers: { 'X-Auth-Token': await s.getToken() },
        redirect: 'manual',
      });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(`${base}/stacks/app/${stack.id}${suffix}`);
    }
    // And by id alone too (heatclient uses whichever the user typed).
    expect((await h.getStack(stack.id)).stack_name).toBe('app');
  });

  it('keeps stacks per project and per region', async () => {
    expect((await heat('RegionTwo').listStacks()).map((s) => s.stack_name)).not.toContain('app');
    await expect(heat('RegionTwo').getStack('app')).rejects.toMatchObject({ status: 404 });
    expect((await heat('RegionOne', 'admin').listStacks()).map((s) => s.stack_name)).not.toContain('app');
    // The project in the URL must be the token's.
    const s = session();
    const base = (await s.endpointFor('orchestration')).replace(cloud.demo.projectId, 'someone-else');
    const res = await fetch(`${base}/stacks`, { headers: { 'X-Auth-Token': await s.getToken() } });
    expect(res.status).toBe(403);
  });

  it('retries a GET through a burst of 503s', async () => {
    cloud.faults.RegionOne.set('orchestration', { errorBurst: 2, methods: ['GET'] });
    try {
      expect((await heat().getStack('app')).stack_status).toBe('CREATE_COMPLETE');
    } finally {
      cloud.faults.RegionOne.set('orchestration', undefined);
    }
  });

  it('updates: unchanged resources kept, added ones created, removed ones deleted', async () => {
    const h = heat();
    const beforeIds = Object.fromEntries(
      (await h.listResources('app')).map((r) => [r.resource_name, r.physical_resource_id]),
    );
    const t = structuredClone(APP) as typeof APP & { resources: Record<string, unknown> };
    delete (t.resources as Record<string, unknown>).sg;
    (t.resources.port as { properties: Record<string, unknown> }).properties.security_groups = undefined;
    delete (t.resources.port as { properties: Record<string, unknown> }).properties.security_groups;
    t.resources.extra = { type: 'OS::Cinder::Volume', properties: { name: 'extra-vol', size: 1 } };
    log().length = 0;
    await h.updateStack('app', { template: t, existing: true });
    const s = await h.waitForStack('app', 'UPDATE_COMPLETE', fast);
    expect(s.stack_status_reason).toBe('Stack UPDATE completed successfully');
    const after = Object.fromEntries(
      (await h.listResources('app')).map((r) => [r.resource_name, r.physical_resource_id]),
    );
    expect(after.net).toBe(beforeIds.net);
    expect(after.vol).toBe(beforeIds.vol);
    expect(after.sg).toBeUndefined();
    expect(after.extra).toBeTruthy();
    expect(fakeStates.RegionOne.volumes.has(after.extra)).toBe(true);
    expect(fakeStates.RegionOne.securityGroups.has(beforeIds.sg)).toBe(false);
    // The port changed (no security group any more): replaced, and so the server using it.
    expect(after.port).not.toBe(beforeIds.port);
    expect(log()).toContain('create volume extra-vol');
  });

  it('deletes everything in reverse order; the deleted stack stays visible by id as DELETE_COMPLETE', async () => {
    const h = heat();
    const s = await h.getStack('app');
    log().length = 0;
    await h.deleteStack('app');
    await h.waitForStack({ name: 'app', id: s.id }, 'DELETE_COMPLETE', fast);
    expect(leftovers()).toBe(0);
    happensBefore('delete attachment', 'delete volume');
    happensBefore('delete server', 'delete port');
    happensBefore('delete port', 'delete subnet');
    happensBefore('delete subnet', 'delete network');
    const gone = await h.getStack({ name: 'app', id: s.id });
    expect(gone.stack_status).toBe('DELETE_COMPLETE');
    expect(gone.deletion_time).toBeTruthy();
    expect((await h.listStacks()).map((x) => x.stack_name)).not.toContain('app');
    expect(await h.findStack('app')).toBeUndefined();
    // The name can be used again.
    await h.createStack({ name: 'app', template: { heat_template_version: 'wallaby', resources: {} } });
    await h.waitForStack('app', 'CREATE_COMPLETE', fast);
    await h.deleteStack('app');
    await h.waitForStack('app', 'DELETE_COMPLETE', fast);
  });
});

describe('Heat simulator: failures and rollback', () => {
  it('an injected resource failure gives CREATE_FAILED with the reason, and rollback deletes everything', async () => {
    const h = heat();
    const t = structuredClone(APP) as { resources: Record<string, unknown> };
    t.resources.boom = { type: 'OS::Heat::TestResource', properties: { fail: true }, depends_on: ['server'] };
    const { id } = await h.createStack({ name: 'broken', template: t, disableRollback: false });
    const err = await h.waitForStack('broken', 'CREATE_COMPLETE', fast).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitError);
    expect(String((err as Error).message)).toContain('CREATE_FAILED');
    expect(String((err as Error).message)).toContain(
      'Resource CREATE failed: Error: resources.boom: Test Resource failed boom',
    );
    const rolled = await h.waitForStack({ name: 'broken', id }, 'ROLLBACK_COMPLETE', fast);
    expect(rolled.stack_status_reason).toBe('Stack ROLLBACK completed successfully');
    expect(leftovers()).toBe(0);
    const events = (await h.listEvents('broken')).map((e) => `${e.resource_name} ${e.resource_status}`);
    expect(events).toContain('broken CREATE_FAILED');
    expect(events).toContain('broken ROLLBACK_IN_PROGRESS');
    expect(events).toContain('server DELETE_COMPLETE');
    await h.deleteStack('broken');
    await h.waitForStack('broken', 'DELETE_COMPLETE', fast);
  });

  it('a service answering 500 fails the stack with its message; without rollback (Heat default) the rest stays until delete', async () => {
    const h = heat();
    await h.createStack({ name: 'bad-volume', template: APP, parameters: { size: 666 } });
    const err = await h.waitForStack('bad-volume', 'CREATE_COMPLETE', fast).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /InternalServerError: resources.vol: The server has either erred.*\(HTTP 500\)/,
    );
    const s = await h.getStack('bad-volume');
    expect(s.stack_status).toBe('CREATE_FAILED');
    const vol = await h.getResource('bad-volume', 'vol');
    expect(vol.resource_status).toBe('CREATE_FAILED');
    expect(vol.physical_resource_id).toBe('');
    const server = await h.getResource('bad-volume', 'server');
    expect(server.resource_status).not.toBe('CREATE_IN_PROGRESS');
    expect(leftovers()).toBeGreaterThan(0);
    await h.deleteStack('bad-volume');
    await h.waitForStack('bad-volume', 'DELETE_COMPLETE', fast);
    expect(leftovers()).toBe(0);
  });

  it('honours deletion_policy Retain', async () => {
    const h = heat();
    const t = {
      heat_template_version: '2016-10-14',
      resources: {
        keep: { type: 'OS::Neutron::Net', deletion_policy: 'Retain', properties: { name: 'kept-net' } },
        drop: { type: 'OS::Neutron::Net', properties: { name: 'dropped-net' } },
      },
    };
    await h.createStack({ name: 'retain', template: t });
    await h.waitForStack('retain', 'CREATE_COMPLETE', fast);
    const keep = (await h.getResource('retain', 'keep')).physical_resource_id;
    await h.deleteStack('retain');
    await h.waitForStack('retain', 'DELETE_COMPLETE', fast);
    const nets = [...fakeStates.RegionOne.networks.values()].map((n) => n.name);
    expect(nets).toEqual(['kept-net']);
    fakeStates.RegionOne.networks.delete(keep);
  });

  it('a delete cancels a create in progress and cleans up what it made', async () => {
    const h = heat();
    const heatSvc = cloud.sites.RegionOne.services.get('orchestration') as HeatServiceApi;
    const t = {
      heat_template_version: '2018-08-31',
      resources: {
        slow: { type: 'OS::Heat::TestResource', properties: { wait_secs: 30 } },
        net: { type: 'OS::Neutron::Net', properties: { name: 'n' } },
      },
    };
    await h.createStack({ name: 'slow', template: t });
    await new Promise((r) => setTimeout(r, 200));
    expect((await h.getStack('slow')).stack_status).toBe('CREATE_IN_PROGRESS');
    await h.deleteStack('slow');
    await h.waitForStack('slow', 'DELETE_COMPLETE', fast);
    expect(leftovers()).toBe(0);
    expect(heatSvc.engine.stacks.size).toBeGreaterThan(0);
  });

  it('honours timeout_mins: the stack fails "Timed out" and the slow resource is aborted', async () => {
    const h = heat();
    const t = {
      heat_template_version: '2018-08-31',
      resources: { slow: { type: 'OS::Heat::TestResource', properties: { wait_secs: 30 } } },
    };
    // A fraction of a minute keeps the test short; Heat itself only takes whole minutes.
    await h.createStack({ name: 'timeout', template: t, timeoutMins: 0.005 });
    const err = await h.waitForStack('timeout', 'CREATE_COMPLETE', fast).catch((e: unknown) => e);
    expect((err as Error).message).toContain('CREATE_FAILED');
    const s = await h.getStack('timeout');
    expect(s.stack_status_reason).toContain('Timed out');
    const slow = await h.getResource('timeout', 'slow');
    expect(slow.resource_status).toBe('CREATE_FAILED');
    expect(slow.resource_status_reason).toContain('CREATE aborted');
    await h.deleteStack('timeout');
    await h.waitForStack('timeout', 'DELETE_COMPLETE', fast);
  });
});

describe('Heat simulator: routers, floating IPs, key pairs', () => {
  it('creates and deletes a router with a gateway and an interface, a floating IP with its association, a key pair', async () => {
    const h = heat();
    const t = {
      heat_template_version: 'rocky',
      resources: {
        public: {
          type: 'OS::Neutron::Net',
          properties: { name: 'public', value_specs: { 'router:external': true } },
        },
        net: { type: 'OS::Neutron::Net', properties: { name: 'private' } },
        subnet: {
          type: 'OS::Neutron::Subnet',
          properties: { network: { get_resource: 'net' }, cidr: '192.168.1.0/24' },
        },
        router: {
          type: 'OS::Neutron::Router',
          properties: { external_gateway_info: { network: { get_resource: 'public' } } },
        },
        iface: {
          type: 'OS::Neutron::RouterInterface',
          properties: { router: { get_resource: 'router' }, subnet: { get_resource: 'subnet' } },
        },
        port: {
          type: 'OS::Neutron::Port',
          properties: { network: 'private', fixed_ips: [{ subnet: { get_resource: 'subnet' } }] },
          depends_on: 'subnet',
        },
        fip: {
          type: 'OS::Neutron::FloatingIP',
          properties: { floating_network: { get_resource: 'public' } },
        },
        assoc: {
          type: 'OS::Neutron::FloatingIPAssociation',
          properties: { floatingip_id: { get_resource: 'fip' }, port_id: { get_resource: 'port' } },
          depends_on: ['iface'],
        },
        key: { type: 'OS::Nova::KeyPair', properties: { name: 'stack-key', save_private_key: true } },
      },
      outputs: {
        fip: { value: { get_attr: ['fip', 'floating_ip_address'] } },
        key: { value: { get_attr: ['key', 'private_key'] } },
        gw: { value: { get_attr: ['router', 'external_gateway_info', 'network_id'] } },
      },
    };
    await h.createStack({ name: 'edge', template: t });
    const s = await h.waitForStack('edge', 'CREATE_COMPLETE', fast);
    const out = Object.fromEntries((s.outputs ?? []).map((o) => [o.output_key, o.output_value]));
    const res = Object.fromEntries(
      (await h.listResources(s.id)).map((r) => [r.resource_name, r.physical_resource_id]),
    );
    expect(out.fip).toMatch(/^172\.24\.4\./);
    expect(out.key).toContain('PRIVATE KEY');
    expect(out.gw).toBe(res.public);
    expect(res.iface).toBe(`${res.router}:subnet_id=${res.subnet}`);
    expect(fakeStates.RegionOne.floatingips.get(res.fip)?.port_id).toBe(res.port);
    expect(fakeStates.RegionOne.routers.get(res.router)?.interfaces).toEqual([res.subnet]);
    expect(fakeStates.RegionOne.keypairs.has('stack-key')).toBe(true);
    await h.deleteStack('edge');
    await h.waitForStack('edge', 'DELETE_COMPLETE', fast);
    expect(leftovers()).toBe(0);
    expect(log()).toContain('disassociate floatingip');
    expect(log()).toContain('remove router interface');
  });
});

describe('Heat simulator: volumes from backups, boot from volume, PUT update', () => {
  it('restores a volume from a backup and boots a server from it with block_device_mapping_v2', async () => {
    const h = heat();
    const t = {
      heat_template_version: '2018-08-31',
      parameters: { backup: { type: 'string' } },
      resources: {
        root: {
          type: 'OS::Cinder::Volume',
          properties: { backup_id: { get_param: 'backup' }, name: 'root' },
        },
        vm: {
          type: 'OS::Nova::Server',
          properties: {
            flavor: '1',
            key_name: 'k',
            user_data: '#!/bin/sh\necho hi',
            metadata: { role: 'db', replicas: 2 },
            networks: [],
            block_device_mapping_v2: [
              { volume_id: { get_resource: 'root' }, boot_index: 0, delete_on_termination: false },
            ],
          },
        },
      },
    };
    await h.createStack({ name: 'restored', template: t, parameters: { backup: 'bk-1' } });
    await h.waitForStack('restored', 'CREATE_COMPLETE', fast);
    const res = Object.fromEntries(
      (await h.listResources('restored')).map((r) => [r.resource_name, r.physical_resource_id]),
    );
    expect(fakeStates.RegionOne.volumes.get(res.root)?.backup_id).toBe('bk-1');
    const sent = fakeStates.RegionOne.servers.get(res.vm)?.request as Record<string, unknown>;
    expect(sent.imageRef).toBeUndefined();
    expect(sent.flavorRef).toBe('1');
    expect(sent.block_device_mapping_v2).toEqual([
      {
        uuid: res.root,
        source_type: 'volume',
        destination_type: 'volume',
        boot_index: 0,
        delete_on_termination: false,
      },
    ]);
    expect(Buffer.from(String(sent.user_data), 'base64').toString()).toBe('#!/bin/sh\necho hi');
    expect(sent.metadata).toEqual({ role: 'db', replicas: '2' });
    await h.deleteStack('restored');
    await h.waitForStack('restored', 'DELETE_COMPLETE', fast);
    expect(leftovers()).toBe(0);
  });

  it('PUT replaces template and parameters; a changed parameter replaces only what reads it', async () => {
    const h = heat();
    const t = (name: string) => ({
      heat_template_version: '2018-08-31',
      parameters: { size: { type: 'number' } },
      resources: {
        net: { type: 'OS::Neutron::Net', properties: { name } },
        vol: { type: 'OS::Cinder::Volume', properties: { size: { get_param: 'size' } } },
      },
    });
    await h.createStack({ name: 'put', template: t('a'), parameters: { size: 1 } });
    await h.waitForStack('put', 'CREATE_COMPLETE', fast);
    const ids = async () =>
      Object.fromEntries(
        (await h.listResources('put')).map((r) => [r.resource_name, r.physical_resource_id]),
      );
    const first = await ids();
    await h.updateStack('put', { template: t('a'), parameters: { size: 2 } });
    await h.waitForStack('put', 'UPDATE_COMPLETE', fast);
    const second = await ids();
    expect(second.net).toBe(first.net);
    expect(second.vol).not.toBe(first.vol);
    expect(fakeStates.RegionOne.volumes.get(second.vol)?.size).toBe(2);
    expect(fakeStates.RegionOne.volumes.has(first.vol)).toBe(false);
    // PUT without the parameter: it is required again (PUT does not keep the old values).
    await expect(h.updateStack('put', { template: t('b') })).rejects.toMatchObject({ status: 400 });
    await h.updateStack('put', { template: t('b'), parameters: { size: 2 } });
    await h.waitForStack('put', 'UPDATE_COMPLETE', fast);
    const third = await ids();
    expect(third.net).not.toBe(second.net);
    expect(third.vol).toBe(second.vol);
    const events = await h.listEvents('put', { sortDir: 'desc', limit: 1 });
    expect(events[0].resource_status).toBe('UPDATE_COMPLETE');
    expect((await h.listStacks({ name: 'put' })).map((s) => s.stack_status)).toEqual(['UPDATE_COMPLETE']);
    await h.deleteStack('put');
    await h.waitForStack('put', 'DELETE_COMPLETE', fast);
    expect(leftovers()).toBe(0);
  });
});

describe('Heat simulator: template validation', () => {
  it('validates a good template and describes its parameters like Heat', async () => {
    const v = await heat().validate(APP);
    expect(v.Description).toBe(APP.description);
    expect(v.Parameters.size).toMatchObject({
      Type: 'Number',
      Default: 1,
      MinValue: 1,
      MaxValue: 1000,
      NoEcho: 'false',
    });
    expect(v.Parameters.cidr).toMatchObject({ Type: 'String', Default: '10.0.0.0/24', Label: 'cidr' });
  });

  it('accepts a YAML string template', async () => {
    const yaml =
      'heat_template_version: wallaby\ndescription: yaml one\nresources:\n  r: {type: OS::Heat::RandomString}\n';
    expect((await heat().validate(yaml)).Description).toBe('yaml one');
  });

  const bad = async (template: unknown, parameters?: Record<string, unknown>) => {
    const s = session();
    const base = await s.endpointFor('orchestration');
    const res = await fetch(`${base}/validate`, {
      method: 'POST',
      headers: { 'X-Auth-Token': await s.getToken(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ template, environment: { parameters: parameters ?? {} } }),
    });
    return {
      status: res.status,
      body: (await res.json()) as {
        code: number;
        error: { type: string; message: string; traceback: null };
        title: string;
        explanation: string;
      },
    };
  };

  it("rejects a bad get_resource reference with InvalidTemplateReference in Heat's error body", async () => {
    const t = structuredClone(APP) as { resources: Record<string, { properties: Record<string, unknown> }> };
    t.resources.server.properties.networks = [{ port: { get_resource: 'nosuch' } }];
    const { status, body } = await bad(t);
    expect(status).toBe(400);
    expect(body).toMatchObject({
      code: 400,
      title: 'Bad Request',
      error: { type: 'InvalidTemplateReference', traceback: null },
    });
    expect(body.error.message).toBe(
      'The specified reference "nosuch" (in server.properties.networks[0].port) is incorrect.',
    );
    expect(body.explanation).toContain('malformed');
  });

  it('rejects an unknown resource type, an unknown property, a bad version, a bad parameter value', async () => {
    const unknownType = await bad({
      heat_template_version: '2018-08-31',
      resources: { x: { type: 'OS::Nova::Serverr' } },
    });
    expect(unknownType.body.error.message).toContain(
      'The Resource Type (OS::Nova::Serverr) could not be found.',
    );
    const unknownProp = await bad({
      heat_template_version: '2018-08-31',
      resources: { x: { type: 'OS::Neutron::Net', properties: { colour: 'red' } } },
    });
    expect(unknownProp.body.error.message).toContain('Unknown Property colour');
    const version = await bad({ heat_template_version: '2099-01-01', resources: {} });
    expect(version.body.error.type).toBe('InvalidTemplateVersion');
    const value = await bad(APP, { size: 5000 });
    expect(value.body.error.message).toContain("Parameter 'size' is invalid");
  });

  it('refuses a stack create with a required parameter missing (UserParameterMissing), or a taken name', async () => {
    const h = heat();
    const t = {
      heat_template_version: '2018-08-31',
      parameters: { key: { type: 'string' } },
      resources: { r: { type: 'OS::Heat::None' } },
    };
    const err = await h.createStack({ name: 'noparam', template: t }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenStackHttpError);
    expect((err as OpenStackHttpError).status).toBe(400);
    expect((err as OpenStackHttpError).osMessage).toBe('The Parameter (key) was not provided.');
    await h.createStack({ name: 'twice', template: t, parameters: { key: 'k' } });
    await expect(
      h.createStack({ name: 'twice', template: t, parameters: { key: 'k' } }),
    ).rejects.toMatchObject({
      status: 409,
    });
    await h.waitForStack('twice', 'CREATE_COMPLETE', fast);
    await h.deleteStack('twice');
    await h.waitForStack('twice', 'DELETE_COMPLETE', fast);
  });

  it('hides hidden parameters and resolves RandomString values', async () => {
    const h = heat();
    const t = {
      heat_template_version: '2018-08-31',
      parameters: { secret: { type: 'string', hidden: true, default: 's3cr3t' } },
      resources: { pw: { type: 'OS::Heat::RandomString', properties: { length: 12 } } },
      outputs: { pw: { value: { get_attr: ['pw', 'value'] } }, ref: { value: { get_resource: 'pw' } } },
    };
    await h.createStack({ name: 'rand', template: t });
    const s = await h.waitForStack('rand', 'CREATE_COMPLETE', fast);
    expect(s.parameters?.secret).toBe('******');
    const out = Object.fromEntries((s.outputs ?? []).map((o) => [o.output_key, o.output_value]));
    expect(String(out.pw)).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(out.ref).toBe(out.pw);
    await h.deleteStack('rand');
    await h.waitForStack('rand', 'DELETE_COMPLETE', fast);
  });
});

/**
 * Tiny stand-ins for Neutron, Nova and Cinder, just enough of their HTTP APIs
 * for the Heat engine tests (the real simulators live in other modules).
 * They keep a log of the calls that change something, so tests can assert
 * the order Heat created and deleted things in, and they refuse deletes the
 * real services refuse (a network with ports, an in-use volume), so a wrong
 * delete order shows up as a failure.
 */
import { randomUUID } from 'node:crypto';
import express, { type Response } from 'express';
import { callerOf } from '../../../services/cloudsim/sim-auth.js';
import type { SiteContext } from '../../../services/cloudsim/site.js';

type Obj = Record<string, unknown> & { id: string; project_id: string };

export interface FakeState {
  log: string[];
  networks: Map<string, Obj>;
  subnets: Map<string, Obj>;
  ports: Map<string, Obj>;
  securityGroups: Map<string, Obj>;
  volumes: Map<string, Obj>;
  servers: Map<string, Obj>;
  routers: Map<string, Obj>;
  floatingips: Map<string, Obj>;
  keypairs: Map<string, Obj>;
  /** Volume sizes the fake Cinder answers 500 for (failure injection). */
  failVolumeSize: number;
}

export const fakeStates: Record<string, FakeState> = {};

function stateOf(region: string): FakeState {
  fakeStates[region] ??= {
    log: [],
    networks: new Map(),
    subnets: new Map(),
    ports: new Map(),
    securityGroups: new Map(),
    volumes: new Map(),
    servers: new Map(),
    routers: new Map(),
    floatingips: new Map(),
    keypairs: new Map(),
    failVolumeSize: 666,
  };
  return fakeStates[region];
}

/** Everything the fakes hold (what should be empty after a delete or rollback). */
export function leftovers(region = 'RegionOne'): number {
  const s = stateOf(region);
  return [
    s.networks,
    s.subnets,
    s.ports,
    s.securityGroups,
    s.volumes,
    s.servers,
    s.routers,
    s.floatingips,
    s.keypairs,
  ].reduce((n, m) => n + m.size, 0);
}

const later = (ms: number, f: () => void) => setTimeout(f, ms);

function neutronError(res: Response, status: number, type: string, message: string) {
  res.status(status).json({ NeutronError: { type, message, detail: '' } });
}

export function fakeNeutron(site: SiteContext) {
  const st = stateOf(site.region);
  const router = express.Router();
  router.use(express.json());
  const kinds: Record<string, [string, Map<string, Obj>]> = {
    networks: ['network', st.networks],
    subnets: ['subnet', st.subnets],
    ports: ['port', st.ports],
    'security-groups': ['security_group', st.securityGroups],
    routers: ['router', st.routers],
    floatingips: ['floatingip', st.floatingips],
  };
  for (const [plural, [key, map]] of Object.entries(kinds)) {
    router.post(`/v2.0/${plural}`, site.auth, (req, res) => {
      const body = (req.body as Record<string, Record<string, unknown>>)[key] ?? {};
      const o: Obj = { ...body, id: randomUUID(), project_id: callerOf(res).projectId, status: 'ACTIVE' };
      if (key === 'subnet' && !st.networks.has(String(body.network_id)))
        return neutronError(res, 404, 'NetworkNotFound', `Network ${body.network_id} could not be found.`);
      if (key === 'port') {
        const subnet = [...st.subnets.values()].find((s) => s.network_id === body.network_id);
        const n = st.ports.size + 10;
        o.fixed_ips = subnet
          ? [{ subnet_id: subnet.id, ip_address: String(subnet.cidr).replace(/\.0\/\d+$/, `.${n}`) }]
          : [];
        o.mac_address = 'fa:16:3e:00:00:01';
      }
      if (key === 'floatingip') {
        if (!st.networks.get(String(body.floating_network_id))?.['router:external'])
          return neutronError(
            res,
            400,
            'BadRequest',
            `Network ${body.floating_network_id} is not a valid external network`,
          );
        o.floating_ip_address = `172.24.4.${st.floatingips.size + 100}`;
        o.port_id = body.port_id ?? null;
      }
      if (key === 'security_group')
        o.security_group_rules = [{ id: randomUUID(), direction: 'egress', ethertype: 'IPv4' }];
      map.set(o.id, o);
      st.log.push(`create ${key} ${o.name ?? ''}`.trim());
      res.status(201).json({ [key]: o });
    });
    router.get(`/v2.0/${plural}`, site.auth, (req, res) => {
      const list = [...map.values()].filter(
        (o) => o.project_id === callerOf(res).projectId && (!req.query.name || o.name === req.query.name),
      );
      res.json({ [plural.replace('-', '_')]: list });
    });
    router.get(`/v2.0/${plural}/:id`, site.auth, (req, res) => {
      const o = map.get(req.params.id as string);
      if (!o || o.project_id !== callerOf(res).projectId)
        return neutronError(
          res,
          404,
          `${key}NotFound`,
          `${key} ${req.params.id as string} could not be found.`,
        );
      res.json({ [key]: o });
    });
    router.delete(`/v2.0/${plural}/:id`, site.auth, (req, res) => {
      const id = req.params.id as string;
      const o = map.get(id);
      if (!o) return neutronError(res, 404, `${key}NotFound`, `${key} ${id} could not be found.`);
      const inUse =
        (key === 'network' &&
          ([...st.subnets.values()].some((s) => s.network_id === id) ||
            [...st.ports.values()].some((p) => p.network_id === id))) ||
        (key === 'subnet' &&
          [...st.ports.values()].some((p) =>
            (p.fixed_ips as Array<{ subnet_id: string }>).some((f) => f.subnet_id === id),
          )) ||
        (key === 'security_group' &&
          [...st.ports.values()].some((p) => ((p.security_groups as string[]) ?? []).includes(id))) ||
        (key === 'port' && Boolean(o.device_id)) ||
        (key === 'router' && ((o.interfaces as string[]) ?? []).length > 0);
      if (inUse)
        return neutronError(res, 409, 'InUse', `Unable to complete operation on ${key} ${id}: in use.`);
      map.delete(id);
      st.log.push(`delete ${key} ${o.name ?? ''}`.trim());
      res.status(204).end();
    });
  }
  for (const op of ['add', 'remove'])
    router.put(`/v2.0/routers/:id/${op}_router_interface`, site.auth, (req, res) => {
      const r = st.routers.get(req.params.id as string);
      if (!r)
        return neutronError(
          res,
          404,
          'RouterNotFound',
          `Router ${req.params.id as string} could not be found`,
        );
      const subnet = String((req.body as { subnet_id?: string }).subnet_id);
      const list = ((r.interfaces as string[]) ?? []).filter((x) => x !== subnet);
      r.interfaces = op === 'add' ? [...list, subnet] : list;
      st.log.push(`${op} router interface`);
      res.json({ id: r.id, subnet_id: subnet });
    });
  router.put('/v2.0/floatingips/:id', site.auth, (req, res) => {
    const f = st.floatingips.get(req.params.id as string);
    if (!f)
      return neutronError(
        res,
        404,
        'FloatingIPNotFound',
        `Floating IP ${req.params.id as string} could not be found`,
      );
    f.port_id = (req.body as { floatingip: { port_id: string | null } }).floatingip.port_id;
    st.log.push(f.port_id ? 'associate floatingip' : 'disassociate floatingip');
    res.json({ floatingip: f });
  });
  router.post('/v2.0/security-group-rules', site.auth, (req, res) => {
    const rule = (req.body as { security_group_rule: Record<string, unknown> }).security_group_rule;
    const sg = st.securityGroups.get(String(rule.security_group_id));
    if (!sg) return neutronError(res, 404, 'SecurityGroupNotFound', 'Security group not found');
    const r = { ...rule, id: randomUUID() };
    (sg.security_group_rules as unknown[]).push(r);
    res.status(201).json({ security_group_rule: r });
  });
  router.delete('/v2.0/security-group-rules/:id', site.auth, (req, res) => {
    for (const sg of st.securityGroups.values())
      sg.security_group_rules = (sg.security_group_rules as Array<{ id: string }>).filter(
        (r) => r.id !== req.params.id,
      );
    res.status(204).end();
  });
  return { type: 'network', name: 'neutron', router, catalogUrl: (b: string) => b };
}

function novaError(res: Response, status: number, kind: string, message: string) {
  res.status(status).json({ [kind]: { code: status, message } });
}

export function fakeNova(site: SiteContext) {
  const st = stateOf(site.region);
  const router = express.Router();
  router.use(express.json());
  const flavors = [{ id: '1', name: 'm1.tiny' }];
  router.get('/v2.1/flavors/detail', site.auth, (_req, res) => {
    res.json({ flavors });
  });
  router.get('/v2.1/flavors/:id', site.auth, (req, res) => {
    const f = flavors.find((x) => x.id === req.params.id);
    if (!f)
      return novaError(res, 404, 'itemNotFound', `Flavor ${req.params.id as string} could not be found.`);
    res.json({ flavor: f });
  });
  router.post('/v2.1/os-keypairs', site.auth, (req, res) => {
    const k = (req.body as { keypair: { name: string; public_key?: string } }).keypair;
    if (st.keypairs.has(k.name))
      return novaError(res, 409, 'conflictingRequest', `Key pair '${k.name}' already exists.`);
    const kp: Obj = {
      id: k.name,
      name: k.name,
      project_id: callerOf(res).projectId,
      public_key: k.public_key ?? 'ssh-ed25519 AAAA generated',
    };
    st.keypairs.set(k.name, kp);
    res.json({
      keypair: { ...kp, ...(k.public_key ? {} : { private_key: '-----BEGIN OPENSSH PRIVATE KEY-----fake' }) },
    });
  });
  router.get('/v2.1/os-keypairs/:name', site.auth, (req, res) => {
    const kp = st.keypairs.get(req.params.name as string);
    if (!kp)
      return novaError(res, 404, 'itemNotFound', `Keypair ${req.params.name as string} not found for user`);
    res.json({ keypair: kp });
  });
  router.delete('/v2.1/os-keypairs/:name', site.auth, (req, res) => {
    if (!st.keypairs.delete(req.params.name as string))
      return novaError(res, 404, 'itemNotFound', `Keypair ${req.params.name as string} not found for user`);
    res.status(202).end();
  });
  router.post('/v2.1/servers', site.auth, (req, res) => {
    const body = (req.body as { server: Record<string, unknown> }).server;
    const id = randomUUID();
    const addresses: Record<string, Array<{ addr: string; version: number }>> = {};
    const nets = Array.isArray(body.networks)
      ? (body.networks as Array<{ port?: string; uuid?: string }>)
      : [];
    for (const n of nets) {
      const port = n.port ? st.ports.get(n.port) : undefined;
      if (n.port && !port) return novaError(res, 400, 'badRequest', `Port id ${n.port} not found.`);
      if (port) {
        port.device_id = id;
        const net = st.networks.get(String(port.network_id));
        addresses[String(net?.name ?? 'net')] = (port.fixed_ips as Array<{ ip_address: string }>).map(
          (f) => ({
            addr: f.ip_address,
            version: 4,
          }),
        );
      }
    }
    const s: Obj = {
      id,
      name: body.name,
      status: 'BUILD',
      project_id: callerOf(res).projectId,
      addresses,
      // What Heat sent, for the tests (not part of Nova's answer).
      request: body,
    };
    st.servers.set(id, s);
    st.log.push(`create server ${String(body.name)}`);
    later(40, () => {
      if (!site.faults.stuck.has(id)) s.status = 'ACTIVE';
    });
    res.status(202).json({ server: { id, links: [] } });
  });
  router.get('/v2.1/servers/:id', site.auth, (req, res) => {
    const s = st.servers.get(req.params.id as string);
    if (!s)
      return novaError(res, 404, 'itemNotFound', `Instance ${req.params.id as string} could not be found.`);
    res.json({ server: s });
  });
  router.delete('/v2.1/servers/:id', site.auth, (req, res) => {
    const s = st.servers.get(req.params.id as string);
    if (!s)
      return novaError(res, 404, 'itemNotFound', `Instance ${req.params.id as string} could not be found.`);
    if ([...st.volumes.values()].some((v) => v.server_id === s.id))
      return novaError(res, 409, 'conflictingRequest', 'fake: volumes still attached');
    // Like Nova: the server stays visible (task_state deleting) until it is gone.
    s['OS-EXT-STS:task_state'] = 'deleting';
    later(30, () => {
      st.servers.delete(s.id);
      for (const p of st.ports.values()) if (p.device_id === s.id) p.device_id = '';
      st.log.push(`delete server ${String(s.name)}`);
    });
    res.status(204).end();
  });
  router.post('/v2.1/servers/:id/os-volume_attachments', site.auth, (req, res) => {
    const s = st.servers.get(req.params.id as string);
    const a = (req.body as { volumeAttachment: { volumeId: string; device?: string } }).volumeAttachment;
    const v = st.volumes.get(a.volumeId);
    if (s?.status !== 'ACTIVE') return novaError(res, 409, 'conflictingRequest', 'Server not ACTIVE');
    if (v?.status !== 'available') return novaError(res, 400, 'badRequest', 'Volume not available');
    v.status = 'attaching';
    v.server_id = s.id;
    st.log.push('create attachment');
    later(30, () => {
      v.status = 'in-use';
    });
    res.json({
      volumeAttachment: { id: v.id, volumeId: v.id, serverId: s.id, device: a.device ?? '/dev/vdb' },
    });
  });
  router.delete('/v2.1/servers/:id/os-volume_attachments/:vol', site.auth, (req, res) => {
    const v = st.volumes.get(req.params.vol as string);
    if (!v || v.server_id !== req.params.id)
      return novaError(res, 404, 'itemNotFound', `volume_id not found: ${req.params.vol as string}`);
    v.status = 'detaching';
    later(30, () => {
      v.status = 'available';
      v.server_id = undefined;
      st.log.push('delete attachment');
    });
    res.status(202).end();
  });
  return { type: 'compute', name: 'nova', router, catalogUrl: (b: string) => `${b}/v2.1` };
}

export function fakeCinder(site: SiteContext) {
  const st = stateOf(site.region);
  const router = express.Router();
  router.use(express.json());
  router.post('/v3/:project/volumes', site.auth, (req, res) => {
    const body = (req.body as { volume: Record<string, unknown> }).volume;
    if (Number(body.size) === st.failVolumeSize)
      return novaError(
        res,
        500,
        'computeFault',
        'The server has either erred or is incapable of performing the requested operation.',
      );
    const v: Obj = {
      ...body,
      id: randomUUID(),
      status: 'creating',
      project_id: callerOf(res).projectId,
      attachments: [],
    };
    st.volumes.set(v.id, v);
    st.log.push(`create volume ${String(body.name)}`);
    later(40, () => {
      if (!site.faults.stuck.has(v.id)) v.status = 'available';
    });
    res.status(202).json({ volume: v });
  });
  router.post('/v3/:project/backups/:id/restore', site.auth, (req, res) => {
    const restore = (req.body as { restore: { name?: string } }).restore;
    const v: Obj = {
      id: randomUUID(),
      name: restore.name,
      size: 1,
      status: 'restoring-backup',
      project_id: callerOf(res).projectId,
      backup_id: req.params.id,
      attachments: [],
    };
    st.volumes.set(v.id, v);
    st.log.push(`restore backup ${req.params.id as string}`);
    later(40, () => {
      v.status = 'available';
    });
    res.status(202).json({ restore: { backup_id: req.params.id, volume_id: v.id, volume_name: v.name } });
  });
  router.get('/v3/:project/volumes/:id', site.auth, (req, res) => {
    const v = st.volumes.get(req.params.id as string);
    if (!v)
      return novaError(res, 404, 'itemNotFound', `Volume ${req.params.id as string} could not be found.`);
    res.json({ volume: v });
  });
  router.delete('/v3/:project/volumes/:id', site.auth, (req, res) => {
    const v = st.volumes.get(req.params.id as string);
    if (!v)
      return novaError(res, 404, 'itemNotFound', `Volume ${req.params.id as string} could not be found.`);
    if (v.status !== 'available' && v.status !== 'error')
      return novaError(res, 400, 'badRequest', 'Invalid volume: Volume status must be available or error.');
    v.status = 'deleting';
    later(30, () => {
      st.volumes.delete(v.id);
      st.log.push(`delete volume ${String(v.name)}`);
    });
    res.status(202).end();
  });
  return {
    type: 'volumev3',
    aliases: ['block-storage'],
    name: 'cinderv3',
    router,
    catalogUrl: (b: string) => `${b}/v3/%(project_id)s`,
  };
}

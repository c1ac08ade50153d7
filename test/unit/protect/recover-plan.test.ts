/**
 * The recovery plan from a manifest: template parameters resolved through
 * the mapping or taken from recover steps, problems found without a cloud
 * call, and the template adjusted for mapped networks and for a drill —
 * each adjusted template still valid for the backup site's Heat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { allServices } from '../../../services/cloudsim/services.js';
import type { Manifest } from '../../../services/engine/bank/index.js';
import type { SiteClients } from '../../../services/engine/plugin-api.js';
import {
  buildWorkloadTemplate,
  type WorkloadTemplate,
} from '../../../services/engine/protect/template/index.js';
import {
  concreteParameters,
  type PlanOptions,
  planRecovery,
  type RecoveryPlan,
} from '../../../services/engine/recover/plan.js';
import { demoSiteClients, type SiteClientsHandle } from '../../support/site-clients.js';
import { buildThreeTier, type ThreeTier } from '../../support/three-tier.js';

let cloud: RunningCloud;
let handles: SiteClientsHandle[] = [];
let backup: SiteClients;
let shop: ThreeTier;
let built: WorkloadTemplate;

type Hot = {
  resources: Record<string, { type: string; properties: Record<string, unknown> }>;
  outputs: Record<string, { value: Record<string, unknown> }>;
};

/** A manifest as protect writes it, with the web and app servers and the data volume protected (not the db volume). */
function manifest(): Manifest {
  const resources = [
    { resource_id: shop.servers.web.id, resource_type: 'OS::Nova::Server', action: 'image-copy' },
    { resource_id: shop.servers.app.id, resource_type: 'OS::Nova::Server', action: 'image-copy' },
    { resource_id: shop.servers.db.id, resource_type: 'OS::Nova::Server', action: 'image-copy' },
    {
      resource_id: shop.volumes.data.id,
      resource_type: 'OS::Cinder::Volume',
      action: 'volume-snapshot',
      options: { method: 'backup' },
    },
  ];
  const steps = Object.fromEntries(
    resources.map((r) => [
      `${r.resource_type === 'OS::Nova::Server' ? 'server' : 'volume'}-${r.resource_id}`,
      { saved: true },
    ]),
  );
  return {
    format_version: 1,
    checkpoint_id: 'cp-1',
    created_at: '2026-11-26T10:00:00Z',
    objects: [],
    total_size: 0,
    policy: { id: 'p1', name: 'shop', project_id: 'demo', resources },
    graph: built.graph,
    steps,
    template: {
      object: 'template.yaml',
      parameters: built.parameters as unknown as Record<string, unknown>,
      servers: built.servers as unknown as Record<string, unknown>,
      volumes: built.volumes as unknown as Record<string, unknown>,
      key_pairs: { [shop.keyName]: 'ssh-ed25519 AAAA test' },
    },
  };
}

const plan = (opts: Partial<PlanOptions> = {}): RecoveryPlan =>
  planRecovery(manifest(), built.template, { mapping: {}, drill: false, tag: 'abcd1234', ...opts });

/** The backup Heat validates the adjusted template with step values filled in. */
async function validates(p: RecoveryPlan): Promise<void> {
  const values = Object.fromEntries(
    Object.entries(p.parameters).map(([k, v]) => [k, typeof v === 'object' ? 'placeholder' : v]),
  );
  await backup.heat.validate(parse(p.template), { parameters: values });
}

beforeAll(async () => {
  cloud = await startCloud({ services: allServices });
  const primary = demoSiteClients(cloud, 'RegionOne');
  const b = demoSiteClients(cloud, 'RegionTwo');
  handles = [primary, b];
  backup = b.clients;
  shop = await buildThreeTier(primary.clients);
  built = await buildWorkloadTemplate(
    [
      { resource_id: shop.servers.web.id, resource_type: 'OS::Nova::Server' },
      { resource_id: shop.servers.app.id, resource_type: 'OS::Nova::Server' },
      { resource_id: shop.servers.db.id, resource_type: 'OS::Nova::Server' },
      { resource_id: shop.volumes.data.id, resource_type: 'OS::Cinder::Volume' },
      { resource_id: shop.volumes.db.id, resource_type: 'OS::Cinder::Volume' },
    ],
    primary.clients,
  );
}, 60_000);

afterAll(async () => {
  for (const h of handles) await h.close();
  await cloud?.close();
});

describe('planning a recovery from the manifest', () => {
  it('takes images and volumes from the recover steps and maps the rest', () => {
    const p = plan({ mapping: { flavors: { 'm1.tiny': 'm1.small' }, key_pairs: {} } });
    const web = built.servers[shop.servers.web.id].name;
    const data = built.volumes[shop.volumes.data.id].name;
    expect(p.parameters[`${web}_image`]).toEqual({
      from_step: `server-${shop.servers.web.id}`,
      field: 'image',
    });
    expect(p.parameters[`${data}_volume_id`]).toEqual({
      from_step: `volume-${shop.volumes.data.id}`,
      field: 'volume_id',
    });
    expect(p.parameters[`${web}_flavor`]).toBe('m1.small');
    expect(p.parameters.external_network).toBe('public');
    expect(p.steps.map((s) => s.name).sort()).toEqual(
      [
        `server-${shop.servers.web.id}`,
        `server-${shop.servers.app.id}`,
        `server-${shop.servers.db.id}`,
        `volume-${shop.volumes.data.id}`,
      ].sort(),
    );
    expect(p.create_key_pairs).toEqual([shop.keyName]);
    expect(p.needs).toMatchObject({ instances: 3, volumes: 1, gigabytes: 1 });
  });

  it('names an attached volume the policy did not protect, unless it is mapped', () => {
    const p = plan();
    expect(p.problems).toEqual([expect.objectContaining({ kind: 'volume', subject: shop.volumes.db.id })]);
    const mapped = plan({ mapping: { volumes: { [shop.volumes.db.id]: 'vol-at-backup' } } });
    expect(mapped.problems).toEqual([]);
    expect(mapped.parameters[`${built.volumes[shop.volumes.db.id].name}_volume_id`]).toBe('vol-at-backup');
  });

  it('maps the network to an existing one: not created, ports on it without fixed addresses', async () => {
    const p = plan({
      mapping: { networks: { [shop.network.id]: 'private' }, volumes: { [shop.volumes.db.id]: 'x' } },
    });
    const hot = parse(p.template) as Hot;
    const types = Object.values(hot.resources).map((r) => r.type);
    expect(types).not.toContain('OS::Neutron::Net');
    expect(types).not.toContain('OS::Neutron::Subnet');
    expect(types).not.toContain('OS::Neutron::RouterInterface');
    const ports = Object.values(hot.resources).filter((r) => r.type === 'OS::Neutron::Port');
    expect(
      ports.every((r) => r.properties.network === 'private' && r.properties.fixed_ips === undefined),
    ).toBe(true);
    expect(p.warnings.some((w) => w.includes('fixed IPs dropped'))).toBe(true);
    await validates(p);
  });

  it('a drill gets isolated networks: no way out, no floating IPs, names that say drill', async () => {
    const p = plan({ drill: true, mapping: { volumes: { [shop.volumes.db.id]: 'x' } } });
    const hot = parse(p.template) as Hot;
    const of = (type: string) => Object.values(hot.resources).filter((r) => r.type === type);
    expect(of('OS::Neutron::FloatingIP')).toEqual([]);
    expect(of('OS::Neutron::FloatingIPAssociation')).toEqual([]);
    expect(of('OS::Neutron::Router').every((r) => r.properties.external_gateway_info === undefined)).toBe(
      true,
    );
    expect(of('OS::Neutron::Net').every((r) => String(r.properties.name).endsWith('-drill-abcd1234'))).toBe(
      true,
    );
    expect(of('OS::Nova::Server').every((r) => String(r.properties.name).endsWith('-drill-abcd1234'))).toBe(
      true,
    );
    expect(hot.outputs.floating_ip_addresses).toBeUndefined();
    expect(Object.keys(hot.outputs.resource_ids.value)).not.toContain(shop.floatingIp.id);
    await validates(p);
  });

  it('fills step values in, and says which step failed to give one', () => {
    const p = plan({ mapping: { volumes: { [shop.volumes.db.id]: 'x' } } });
    const results: Record<string, unknown> = Object.fromEntries(
      p.steps.map((s) => [
        s.name,
        s.resource_type === 'OS::Nova::Server'
          ? { image: `img-${s.resource_id}` }
          : { volume_id: `vol-${s.resource_id}` },
      ]),
    );
    const values = concreteParameters(p.parameters, results);
    expect(values[`${built.servers[shop.servers.web.id].name}_image`]).toBe(`img-${shop.servers.web.id}`);
    expect(values[`${built.volumes[shop.volumes.data.id].name}_volume_id`]).toBe(
      `vol-${shop.volumes.data.id}`,
    );
    delete results[`volume-${shop.volumes.data.id}`];
    expect(() => concreteParameters(p.parameters, results)).toThrow(`volume-${shop.volumes.data.id}`);
  });
});

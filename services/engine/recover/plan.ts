/**
 * The recovery plan, worked out from the manifest alone (no cloud calls):
 * which recover step each protected resource gets, the value of every
 * template parameter at the target site (the mapping applied to the
 * primary's values, or "what step X returns"), and the template adjusted to
 * the target (networks mapped to existing ones, or a drill's isolated copy).
 * The preflight (preflight.ts) then checks these values against the site.
 */
import { parse, stringify } from 'yaml';
import type { Manifest } from '../bank/index.js';
import type { TemplateServer, TemplateVolume } from '../protect/template/build.js';

/** One document for everything that differs at the target site. Keys are the primary's values. */
export interface RecoveryMapping {
  /** Primary network id or name → an existing network (id or name) at the target; absent: created as recorded. */
  networks?: Record<string, string>;
  /** External network for router gateways and floating IPs. */
  external_network?: string;
  flavors?: Record<string, string>;
  availability_zones?: Record<string, string>;
  volume_types?: Record<string, string>;
  key_pairs?: Record<string, string>;
  /** Primary image id → image at the target (for servers whose image the policy did not copy). */
  images?: Record<string, string>;
  /** Primary volume id → volume at the target (for attached volumes the policy did not protect). */
  volumes?: Record<string, string>;
}

export const MAPPING_KEYS = [
  'networks',
  'external_network',
  'flavors',
  'availability_zones',
  'volume_types',
  'key_pairs',
  'images',
  'volumes',
] as const;

/** What the manifest's template record says of a server and of a volume: as the template builder wrote it. */
export type ManifestServer = TemplateServer;
export type ManifestVolume = TemplateVolume;

export interface ManifestResource {
  resource_id: string;
  resource_type: string;
  resource_name?: string | null;
  action: string;
  options?: Record<string, unknown>;
}

/** A parameter whose value a recover step returns (an image id, a volume id). */
export interface FromStep {
  from_step: string;
  field: 'image' | 'volume_id';
}

export type ParameterValue = string | number | boolean | FromStep;

export interface PlannedStep {
  name: string;
  action: string;
  resource_id: string;
  resource_type: string;
  /** The resource's primary name, for people reading the plan. */
  resource_name: string | null;
  /** The action's options from the protected policy. */
  options: Record<string, unknown>;
  /** Where the restored resource should land (mapped volume type and zone). */
  target: Record<string, string>;
}

export interface Problem {
  /** flavor, network, external_network, key_pair, image, volume, volume_type, availability_zone, quota, replica, object. */
  kind: string;
  /** The primary id (or name) the problem is about, when there is one. */
  subject?: string;
  message: string;
}

export interface RecoveryPlan {
  /** The adjusted HOT template (YAML). */
  template: string;
  parameters: Record<string, ParameterValue>;
  steps: PlannedStep[];
  /** Key pairs to create at the target from the recorded public keys. */
  create_key_pairs: string[];
  /** What the workload needs at the target, for the quota check. */
  needs: { instances: number; cores: number; ram_mb: number; volumes: number; gigabytes: number };
  problems: Problem[];
  warnings: string[];
}

export interface PlanOptions {
  mapping: RecoveryMapping;
  drill: boolean;
  /** Short unique tag for a drill's names (e.g. the recovery id's first 8 characters). */
  tag: string;
}

export const SERVER = 'OS::Nova::Server';
export const VOLUME = 'OS::Cinder::Volume';

/** A step of the protect execution that recovery runs again with `recover` (plugins' own resources). */
export function recoverableSteps(manifest: Manifest): ManifestResource[] {
  const resources = (manifest.policy?.resources ?? []) as ManifestResource[];
  return resources.filter((r) => manifest.steps?.[stepNameOf(r)] !== undefined);
}

/** Same naming as the protect execution (services/common/objects/checkpoints.ts stepNameFor). */
export function stepNameOf(r: { resource_type: string; resource_id: string }): string {
  const kind = r.resource_type.split('::').at(-1)?.toLowerCase() ?? 'resource';
  return `${kind}-${r.resource_id}`;
}

type Hot = {
  heat_template_version: string;
  description?: string;
  parameters?: Record<string, unknown>;
  resources: Record<string, { type: string; properties: Record<string, unknown>; depends_on?: string[] }>;
  outputs?: Record<string, { description?: string; value: unknown }>;
};

/** Builds the plan; pure. Problems found here need no cloud call (e.g. an unprotected attached volume). */
export function planRecovery(manifest: Manifest, templateText: string, opts: PlanOptions): RecoveryPlan {
  const { mapping } = opts;
  const tpl = manifest.template;
  if (!tpl) throw new Error(`checkpoint ${manifest.checkpoint_id} has no template record in its manifest`);
  const servers = (tpl.servers ?? {}) as Record<string, ManifestServer>;
  const volumes = (tpl.volumes ?? {}) as Record<string, ManifestVolume>;
  const keyPairs = (tpl.key_pairs ?? {}) as Record<string, string>;
  const params = tpl.parameters as Record<string, { primary_value: string | number | boolean }>;
  const problems: Problem[] = [];
  const warnings: string[] = [];

  const resources = recoverableSteps(manifest);
  const stepOf = new Map(resources.map((r) => [r.resource_id, stepNameOf(r)]));

  // Which parameter belongs to what, from the names build.ts gives them.
  const serverByName = new Map(Object.entries(servers).map(([id, s]) => [s.name, { id, s }]));
  const volumeByName = new Map(Object.entries(volumes).map(([id, v]) => [v.name, { id, v }]));
  const mapped = (table: Record<string, string> | undefined, v: string) => table?.[v] ?? v;

  const parameters: Record<string, ParameterValue> = {};
  for (const [name, p] of Object.entries(params)) {
    const primary = p.primary_value;
    const value = resolveParameter(name, primary);
    parameters[name] = value;
  }

  function resolveParameter(name: string, primary: string | number | boolean): ParameterValue {
    const text = String(primary);
    if (name === 'external_network' || name.startsWith('external_network_'))
      return name === 'external_network' && mapping.external_network
        ? mapping.external_network
        : mapped(mapping.networks, text);
    for (const [suffix, kind] of [
      ['_flavor', 'flavor'],
      ['_availability_zone', 'zone'],
      ['_key_name', 'key'],
      ['_image', 'image'],
    ] as const) {
      if (!name.endsWith(suffix)) continue;
      const hit = serverByName.get(name.slice(0, -suffix.length));
      if (!hit) continue;
      if (kind === 'flavor') return mapped(mapping.flavors, text);
      if (kind === 'zone') return mapped(mapping.availability_zones, text);
      if (kind === 'key') return mapped(mapping.key_pairs, text);
      const step = stepOf.get(hit.id);
      if (step && !mapping.images?.[text]) return { from_step: step, field: 'image' };
      if (!mapping.images?.[text])
        warnings.push(
          `server ${hit.s.server_name} (${hit.id}): its image ${text} was not copied by the policy; the image must exist at the target or be mapped`,
        );
      return mapped(mapping.images, text);
    }
    for (const [suffix, kind] of [
      ['_volume_id', 'id'],
      ['_volume_type', 'type'],
      ['_availability_zone', 'zone'],
    ] as const) {
      if (!name.endsWith(suffix)) continue;
      const hit = volumeByName.get(name.slice(0, -suffix.length));
      if (!hit) continue;
      if (kind === 'type') return mapped(mapping.volume_types, text);
      if (kind === 'zone') return mapped(mapping.availability_zones, text);
      const step = stepOf.get(hit.id);
      if (step) return { from_step: step, field: 'volume_id' };
      if (mapping.volumes?.[hit.id]) return mapping.volumes[hit.id];
      problems.push({
        kind: 'volume',
        subject: hit.id,
        message: `volume ${hit.id}${hit.v.volume_name ? ` (${hit.v.volume_name})` : ''} is attached to a protected server but the policy did not protect it; protect it or map it (mapping.volumes)`,
      });
      return text;
    }
    if (name.endsWith('_network')) return mapped(mapping.networks, text);
    return primary;
  }

  const steps: PlannedStep[] = resources.map((r) => {
    const v = volumes[r.resource_id];
    const target: Record<string, string> = {};
    if (v) {
      target.volume_type = mapped(mapping.volume_types, v.volume_type);
      target.availability_zone = mapped(mapping.availability_zones, v.availability_zone);
    }
    return {
      name: stepNameOf(r),
      action: r.action,
      resource_id: r.resource_id,
      resource_type: r.resource_type,
      resource_name: r.resource_name ?? servers[r.resource_id]?.server_name ?? v?.volume_name ?? null,
      options: r.options ?? {},
      target,
    };
  });

  // Key pairs: mapped ones must exist; the others are created from the recorded public key if missing.
  const createKeyPairs: string[] = [];
  for (const s of Object.values(servers)) {
    if (!s.key_name || mapping.key_pairs?.[s.key_name]) continue;
    if (keyPairs[s.key_name]) {
      if (!createKeyPairs.includes(s.key_name)) createKeyPairs.push(s.key_name);
    }
  }

  const needs = {
    instances: Object.keys(servers).length,
    cores: Object.values(servers).reduce((n, s) => n + (s.flavor?.vcpus ?? 0), 0),
    ram_mb: Object.values(servers).reduce((n, s) => n + (s.flavor?.ram ?? 0), 0),
    volumes: steps.filter((s) => s.resource_type === VOLUME).length,
    gigabytes: steps
      .filter((s) => s.resource_type === VOLUME)
      .reduce((n, s) => n + (volumes[s.resource_id]?.size ?? 0), 0),
  };

  const template = adjustTemplate(manifest, templateText, opts, warnings);
  return {
    template,
    parameters,
    steps,
    create_key_pairs: createKeyPairs.sort(),
    needs,
    problems,
    warnings,
  };
}

/**
 * The template as the target needs it: networks mapped to existing ones are
 * no longer created (their subnets, router interfaces and the addresses
 * fixed on them go too); a drill gets its own networks with no way out (no
 * router gateway, no floating IPs) and names that say it is a drill.
 */
function adjustTemplate(manifest: Manifest, text: string, opts: PlanOptions, warnings: string[]): string {
  const hot = parse(text) as Hot;
  const graph = (manifest.graph ?? []) as Array<{ name: string; resource_id: string }>;
  const primaryId = new Map(graph.map((g) => [g.name, g.resource_id]));
  const removed = new Set<string>();
  const resources = hot.resources;

  const mappedNets = new Map<string, string>();
  for (const [name, r] of Object.entries(resources)) {
    if (r.type !== 'OS::Neutron::Net') continue;
    const id = primaryId.get(name) ?? '';
    const target = opts.mapping.networks?.[id] ?? opts.mapping.networks?.[String(r.properties.name ?? '')];
    if (target) mappedNets.set(name, target);
  }
  if (mappedNets.size > 0) {
    const goneSubnets = new Set<string>();
    for (const [name, r] of Object.entries(resources)) {
      if (
        r.type === 'OS::Neutron::Subnet' &&
        refName(r.properties.network) &&
        mappedNets.has(refName(r.properties.network)!)
      )
        goneSubnets.add(name);
    }
    for (const net of mappedNets.keys()) removed.add(net);
    for (const s of goneSubnets) removed.add(s);
    for (const [name, r] of Object.entries(resources)) {
      if (r.type === 'OS::Neutron::RouterInterface' && goneSubnets.has(refName(r.properties.subnet) ?? ''))
        removed.add(name);
      if (r.type === 'OS::Neutron::Port') {
        const net = refName(r.properties.network);
        if (net && mappedNets.has(net)) {
          r.properties.network = mappedNets.get(net);
          // The addresses were on the recorded subnet; the existing network hands out its own.
          if (r.properties.fixed_ips) {
            delete r.properties.fixed_ips;
            warnings.push(
              `port ${String(r.properties.name ?? name)}: fixed IPs dropped, its network is mapped to ${mappedNets.get(net)}`,
            );
          }
        }
      }
    }
  }

  if (opts.drill) {
    for (const [name, r] of Object.entries(resources)) {
      if (r.type === 'OS::Neutron::FloatingIP' || r.type === 'OS::Neutron::FloatingIPAssociation')
        removed.add(name);
      if (r.type === 'OS::Neutron::Router') delete r.properties.external_gateway_info;
      if (['OS::Neutron::Net', 'OS::Neutron::Router', 'OS::Nova::Server'].includes(r.type))
        r.properties.name = `${String(r.properties.name ?? name)}-drill-${opts.tag}`;
    }
  }

  for (const name of removed) delete resources[name];
  for (const r of Object.values(resources)) {
    if (r.depends_on) {
      r.depends_on = r.depends_on.filter((d) => !removed.has(d));
      if (r.depends_on.length === 0) delete r.depends_on;
    }
  }
  if (hot.outputs) {
    for (const [key, out] of Object.entries(hot.outputs)) {
      if (out.value && typeof out.value === 'object' && !Array.isArray(out.value)) {
        const value = out.value as Record<string, unknown>;
        for (const [k, v] of Object.entries(value)) if (refersTo(v, removed)) delete value[k];
        if (Object.keys(value).length === 0 && key === 'floating_ip_addresses') delete hot.outputs[key];
      }
    }
  }
  if (opts.drill) hot.description = `${hot.description ?? ''} (DR drill ${opts.tag})`.trim();
  return stringify(hot, { lineWidth: 0, aliasDuplicateObjects: false });
}

function refName(v: unknown): string | undefined {
  if (v && typeof v === 'object' && 'get_resource' in (v as object))
    return String((v as { get_resource: unknown }).get_resource);
  return undefined;
}

function refersTo(v: unknown, names: Set<string>): boolean {
  if (Array.isArray(v)) return v.some((x) => refersTo(x, names));
  if (v && typeof v === 'object')
    return Object.entries(v as Record<string, unknown>).some(
      ([k, x]) =>
        (k === 'get_resource' && typeof x === 'string' && names.has(x)) ||
        (k === 'get_attr' && Array.isArray(x) && names.has(String(x[0]))) ||
        refersTo(x, names),
    );
  return false;
}

/** The parameters with every step-produced value filled in from the steps' results. */
export function concreteParameters(
  planned: Record<string, ParameterValue>,
  results: Record<string, unknown>,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [name, v] of Object.entries(planned)) {
    if (typeof v === 'object') {
      const got = (results[v.from_step] as Record<string, unknown> | undefined)?.[v.field];
      if (typeof got !== 'string' || !got)
        throw new Error(`step ${v.from_step} returned no ${v.field} for template parameter ${name}`);
      out[name] = got;
    } else out[name] = v;
  }
  return out;
}

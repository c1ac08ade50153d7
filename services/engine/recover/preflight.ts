/**
 * Everything that can be checked at the target site before anything is
 * created: flavors, zones, key pairs, images, networks, volume types, quota,
 * and that the bank still holds every object of the manifest at its size.
 * A dry run reports these; a recovery refuses to start while any remains.
 */
import { mapLimited } from '../../common/concurrency.js';
import type { Manifest } from '../bank/index.js';
import type { SiteClients } from '../plugin-api.js';
import type { ManifestServer, ParameterValue, Problem, RecoveryMapping, RecoveryPlan } from './plan.js';

export interface PreflightInput {
  manifest: Manifest;
  plan: RecoveryPlan;
  site: SiteClients;
  /** The bank's Swift (the container may live in another account). */
  bank: { listObjects(container: string): Promise<Array<{ name: string; bytes: number }>> };
  container: string;
  mapping: RecoveryMapping;
  drill: boolean;
}

export interface PreflightResult {
  problems: Problem[];
  warnings: string[];
  /** Key pairs that exist already: not created again. */
  existingKeyPairs: string[];
}

const str = (v: ParameterValue | undefined) => (typeof v === 'string' ? v : undefined);

export async function preflight(input: PreflightInput): Promise<PreflightResult> {
  const { manifest, plan, site } = input;
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const servers = (manifest.template?.servers ?? {}) as Record<string, ManifestServer>;
  const recordedKeys = (manifest.template?.key_pairs ?? {}) as Record<string, string>;
  const params = plan.parameters;

  // The bank first: a missing or short object is found without reading it. Objects the manifest
  // references in other containers of the bank are named `<container>/<object>`.
  const listings = new Map<string, Map<string, number>>();
  const listing = async (container: string) => {
    let l = listings.get(container);
    if (!l) {
      const entries =
        container === input.container
          ? await input.bank.listObjects(container)
          : await input.bank.listObjects(container).catch(() => []);
      l = new Map(entries.map((o) => [o.name, o.bytes] as const));
      listings.set(container, l);
    }
    return l;
  };
  const inBank = [
    ...manifest.objects.map((o) => ({
      container: input.container,
      name: o.name,
      size: o.size,
      label: o.name,
    })),
    ...(manifest.references ?? []).map((r) => ({
      container: r.container,
      name: r.object,
      size: r.size,
      label: `${r.container}/${r.object}`,
    })),
  ];
  for (const o of inBank) {
    const size = (await listing(o.container)).get(o.name);
    if (size === undefined)
      problems.push({
        kind: 'object',
        subject: o.label,
        message: `object ${o.label} is missing from the bank`,
      });
    // Swift lists a Static Large Object with the total size of its segments, like a plain object.
    else if (size !== o.size)
      problems.push({
        kind: 'object',
        subject: o.label,
        message: `object ${o.label} is ${size} bytes in the bank, the manifest says ${o.size}`,
      });
  }

  const [flavors, zones, keypairs] = await Promise.all([
    site.nova.listFlavors(true),
    site.nova.listAvailabilityZones().catch(() => undefined),
    site.nova.listKeypairs().catch(() => undefined),
  ]);
  const existingKeyPairs: string[] = [];
  // Images the template names rather than recovers (mapped, or not copied by the policy): looked up together.
  const imageNames = [
    ...new Set(
      Object.values(servers)
        .map((s) => str(params[`${s.name}_image`]))
        .filter((x): x is string => !!x),
    ),
  ];
  const found = await mapLimited(imageNames, 8, async (image) =>
    Boolean(
      (await site.glance.findImage(image).catch(() => undefined)) ??
        (await site.glance.listImages({ name: image }).catch(() => []))[0],
    ),
  );
  const images = new Map(imageNames.map((n, i) => [n, found[i]]));
  let cores = 0;
  let ram = 0;
  for (const [id, s] of Object.entries(servers)) {
    const flavorName = str(params[`${s.name}_flavor`]) ?? s.flavor.name;
    const flavor = flavors.find((f) => f.name === flavorName || f.id === flavorName);
    if (!flavor)
      problems.push({
        kind: 'flavor',
        subject: id,
        message: `flavor ${flavorName} of server ${s.server_name} does not exist at ${site.name}; map it (mapping.flavors)`,
      });
    else {
      cores += flavor.vcpus;
      ram += flavor.ram;
    }
    const zone = str(params[`${s.name}_availability_zone`]);
    if (zone && zones && !zones.some((z) => z.zoneName === zone && z.zoneState?.available !== false))
      problems.push({
        kind: 'availability_zone',
        subject: id,
        message: `availability zone ${zone} of server ${s.server_name} is not available at ${site.name}; map it (mapping.availability_zones)`,
      });
    const key = str(params[`${s.name}_key_name`]);
    if (key && keypairs) {
      const exists = keypairs.some((k) => k.name === key);
      if (exists) existingKeyPairs.push(key);
      else if (!(plan.create_key_pairs.includes(key) && recordedKeys[key]))
        problems.push({
          kind: 'key_pair',
          subject: id,
          message: `key pair ${key} of server ${s.server_name} does not exist at ${site.name} and its public key was not recorded; create it or map it (mapping.key_pairs)`,
        });
    }
    const image = str(params[`${s.name}_image`]);
    if (image) {
      if (!images.get(image))
        problems.push({
          kind: 'image',
          subject: id,
          message: `image ${image} of server ${s.server_name} does not exist at ${site.name}; map it (mapping.images) or protect the server with image-copy`,
        });
    }
  }

  // Networks the template names rather than creates: mapped ones, the external network, shared ones.
  const networkParams = Object.entries(params).filter(
    ([k, v]) => typeof v === 'string' && (k.endsWith('_network') || k.startsWith('external_network')),
  );
  const wanted = new Set<string>(networkParams.map(([, v]) => String(v)));
  for (const v of Object.values(input.mapping.networks ?? {})) wanted.add(v);
  const nets = await site.neutron.listNetworks();
  for (const name of wanted) {
    const isExternal = networkParams.some(([k, v]) => v === name && k.startsWith('external_network'));
    if (isExternal && input.drill) continue; // a drill has no way out: the external network is not used
    if (!nets.some((n) => n.id === name || n.name === name))
      problems.push({
        kind: isExternal ? 'external_network' : 'network',
        subject: name,
        message: `network ${name} does not exist at ${site.name}; map it (mapping.${isExternal ? 'external_network' : 'networks'})`,
      });
  }

  // Quota: what the new servers and restored volumes need against what the project has left.
  try {
    const l = await site.nova.getLimits();
    const left = (max: number, used: number) => (max < 0 ? Number.POSITIVE_INFINITY : max - used);
    const checks: Array<[string, number, number]> = [
      ['instances', plan.needs.instances, left(l.maxTotalInstances, l.totalInstancesUsed)],
      ['cores', cores || plan.needs.cores, left(l.maxTotalCores, l.totalCoresUsed)],
      ['ram (MiB)', ram || plan.needs.ram_mb, left(l.maxTotalRAMSize, l.totalRAMUsed)],
    ];
    for (const [what, need, have] of checks)
      if (need > have)
        problems.push({
          kind: 'quota',
          subject: `compute:${what}`,
          message: `compute quota too small at ${site.name}: the workload needs ${need} ${what}, ${have} left`,
        });
  } catch (err) {
    warnings.push(`compute quota not checked: ${(err as Error).message}`);
  }
  try {
    const q = await site.cinder.getQuotaUsage(site.projectId);
    for (const [what, need] of [
      ['volumes', plan.needs.volumes],
      ['gigabytes', plan.needs.gigabytes],
    ] as const) {
      const u = q[what];
      if (!u || u.limit < 0) continue;
      const have = u.limit - u.in_use - (u.reserved ?? 0);
      if (need > have)
        problems.push({
          kind: 'quota',
          subject: `volume:${what}`,
          message: `volume quota too small at ${site.name}: the workload needs ${need} ${what}, ${have} left`,
        });
    }
  } catch (err) {
    warnings.push(`volume quota not checked: ${(err as Error).message}`);
  }

  const types = await site.cinder.listVolumeTypes().catch(() => undefined);
  if (types)
    for (const step of plan.steps) {
      const t = step.target.volume_type;
      if (t && !types.some((x) => x.name === t || x.id === t))
        warnings.push(
          `volume ${step.resource_id}: volume type ${t} does not exist at ${site.name}; restored with the default type (map it with mapping.volume_types)`,
        );
    }

  return { problems, warnings, existingKeyPairs };
}

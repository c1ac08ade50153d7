/**
 * The many-resource workload both benchmarks measure parallelism with:
 * `servers` m1.tiny servers booted from cirros without a network and
 * `volumes` 1 GiB volumes of the replicated type, made at one site, and the
 * policy resources that protect them (image-copy, volume-replication).
 */
import type { SiteClients } from '../../services/engine/plugin-api.js';

const fast = { intervalMs: 20, maxIntervalMs: 200, timeoutMs: 600_000 };

export interface ManyWorkload {
  servers: string[];
  volumes: string[];
}

export async function buildManyWorkload(
  site: SiteClients,
  counts: { servers: number; volumes: number },
): Promise<ManyWorkload> {
  const { nova, cinder, glance } = site;
  const [cirros] = (await glance.listImages({ status: 'active' })).filter((i) =>
    /cirros/i.test(i.name ?? ''),
  );
  if (!cirros) throw new Error(`no cirros image at ${site.name}`);
  const tiny = (await nova.findFlavor('m1.tiny'))?.id ?? '1';
  const n = (i: number) => String(i).padStart(3, '0');
  const servers: string[] = [];
  for (let i = 0; i < counts.servers; i++)
    servers.push(
      (
        await nova.createServer({
          name: `bench-${n(i)}`,
          flavorRef: tiny,
          imageRef: cirros.id,
          networks: 'none',
        })
      ).id,
    );
  const volumes: string[] = [];
  for (let i = 0; i < counts.volumes; i++)
    volumes.push(
      (await cinder.createVolume({ name: `bench-vol-${n(i)}`, size: 1, volume_type: 'replicated' })).id,
    );
  for (const id of servers) await nova.waitForServer(id, 'ACTIVE', fast);
  for (const id of volumes) await cinder.waitForVolume(id, ['available'], fast);
  return { servers, volumes };
}

/** The policy resources of the workload: image-copy for the servers, volume-replication for the volumes. */
export function manyWorkloadResources(w: ManyWorkload): Array<Record<string, string>> {
  return [
    ...w.servers.map((id) => ({ resource_id: id, resource_type: 'OS::Nova::Server', action: 'image-copy' })),
    ...w.volumes.map((id) => ({
      resource_id: id,
      resource_type: 'OS::Cinder::Volume',
      action: 'volume-replication',
    })),
  ];
}

/**
 * Narrows the protect graph once the engine can see the primary site. The
 * graph is planned when the protect is requested, before the cloud is read,
 * so every server step waits for every volume step of the policy ("volumes
 * before the servers that may use them"). At run time one listing of the
 * project's volumes says which server uses which volume: a server step then
 * waits only for the volume steps of the volumes attached to it.
 */
import type { SiteClients } from '../plugin-api.js';
import type { StepRow } from '../store.js';

const SERVER_TYPE = 'OS::Nova::Server';
const VOLUME_TYPE = 'OS::Cinder::Volume';

type PlannedStep = Pick<StepRow, 'name' | 'resource_type' | 'resource_id' | 'depends_on'>;

/** A volume as Cinder lists it: enough to know which servers it is attached to. */
export interface ListedVolume {
  id: string;
  attachments?: Array<{ server_id?: string | null }> | null;
}

/**
 * The dependencies a server step keeps, by step name (only the steps that
 * lose some). A volume step stays a dependency of a server step when the
 * volume is attached to that server, and of every server step when the
 * listing does not show the volume (it cannot tell who uses it). Other
 * dependencies (e.g. the pause step) are kept as planned.
 */
export function narrowServerDependencies(
  steps: readonly PlannedStep[],
  volumes: readonly ListedVolume[],
): Record<string, string[]> {
  const usersOf = new Map<string, Set<string>>();
  for (const v of volumes)
    usersOf.set(v.id, new Set((v.attachments ?? []).map((a) => a.server_id).filter((s): s is string => !!s)));
  const volumeOfStep = new Map<string, string>();
  for (const s of steps)
    if (s.resource_type === VOLUME_TYPE && s.resource_id) volumeOfStep.set(s.name, s.resource_id);

  const narrowed: Record<string, string[]> = {};
  for (const s of steps) {
    if (s.resource_type !== SERVER_TYPE || !s.resource_id) continue;
    const serverId = s.resource_id;
    const keep = s.depends_on.filter((d) => {
      const volumeId = volumeOfStep.get(d);
      if (volumeId === undefined) return true;
      const users = usersOf.get(volumeId);
      return users === undefined || users.has(serverId);
    });
    if (keep.length < s.depends_on.length) narrowed[s.name] = keep;
  }
  return narrowed;
}

/**
 * Reads the project's volumes at the primary (one paginated listing) and
 * narrows the graph with them. Without server and volume steps together
 * there is nothing to narrow and nothing is read.
 */
export async function narrowProtectGraph(
  steps: readonly PlannedStep[],
  primary: Pick<SiteClients, 'cinder'>,
): Promise<Record<string, string[]>> {
  const hasServers = steps.some((s) => s.resource_type === SERVER_TYPE);
  const hasVolumes = steps.some((s) => s.resource_type === VOLUME_TYPE);
  if (!hasServers || !hasVolumes) return {};
  return narrowServerDependencies(steps, await primary.cinder.listVolumes());
}

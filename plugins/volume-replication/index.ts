/**
 * volume-replication: the storage backend already mirrors the volume to the
 * backup site, so protect copies nothing; it records what recovery needs to
 * adopt the replica there (Cinder's `os-volume-manage` with the backend name
 * `volume-<id>`). Data written up to the failure survives, unlike a snapshot.
 *
 * Manage-existing is admin-only in Cinder's default policy
 * (`volume_extension:volume_manage`): a recovery acting for a plain project
 * member fails with a message saying so; an operator grants the rule (or
 * runs the recovery with an admin trust).
 */
import type {
  ActionPlugin,
  ProtectContext,
  RecoverContext,
  RecoverPlan,
  RecoverResult,
} from '../../services/engine/plugin-api.js';
import { cloud, oncePerExecution, timeoutMs } from '../_common/util.js';

export interface VolumeReplicationSaved {
  volume_id: string;
  name: string | null;
  size: number;
  volume_type: string;
  replication_status: string | null;
  /** The backend's name of the replica, used as manage's `source-name`. */
  source_name: string;
  /** `os-vol-host-attr:host` when the user could see it (admins). */
  host: string | null;
  bootable: boolean;
  metadata: Record<string, string>;
}

const REPLICATED = /^<is>\s*true$/i;

async function protect(ctx: ProtectContext): Promise<VolumeReplicationSaved> {
  const volumeId = ctx.resource.id;
  if (!volumeId) throw new Error('volume-replication needs a volume id');
  // The backend mirrors continuously: there is no capture for a pause to wait for.
  ctx.pointInTime?.();
  const { cinder } = ctx.primary;
  const volume = await cloud(`volume ${volumeId}`, () => cinder.getVolume(volumeId), ctx.signal);
  const type = await cloud(
    `volume type ${volume.volume_type}`,
    () => cinder.getVolumeType(volume.volume_type),
    ctx.signal,
  );
  if (!REPLICATED.test(type.extra_specs?.replication_enabled ?? ''))
    throw new Error(`volume ${volume.id} has type ${type.name} which is not replicated; use volume-snapshot`);
  if (volume.replication_status && !['enabled', 'active'].includes(volume.replication_status))
    throw new Error(
      `volume ${volume.id} has replication_status ${volume.replication_status}; its replica is not usable`,
    );
  ctx.progress(100, { bytes_done: 0, bytes_total: 0 });
  return {
    volume_id: volume.id,
    name: volume.name,
    size: volume.size,
    volume_type: type.name,
    replication_status: volume.replication_status,
    source_name: `volume-${volume.id}`,
    host:
      typeof volume['os-vol-host-attr:host'] === 'string'
        ? (volume['os-vol-host-attr:host'] as string)
        : null,
    bootable: String(volume.bootable) === 'true',
    metadata: volume.metadata ?? {},
  };
}

async function recover(ctx: RecoverContext): Promise<RecoverResult & { volume_id: string }> {
  const saved = ctx.saved as unknown as VolumeReplicationSaved;
  if (!saved.source_name)
    throw new Error('volume-replication recovery needs the replica name its protect step saved');
  const host = (ctx.options.backup_host as string | undefined) ?? saved.host;
  if (!host)
    throw new Error(
      `no Cinder host known for the replica ${saved.source_name} at ${ctx.backup.name}; set the action option backup_host (host@backend#pool)`,
    );
  const { cinder } = ctx.backup;
  const types = await oncePerExecution(
    ctx,
    `volume types at ${ctx.backup.name} for ${ctx.backup.projectId}`,
    () => cinder.listVolumeTypes(),
  ).catch(() => []);
  let volume: Awaited<ReturnType<typeof cinder.manageVolume>>;
  try {
    volume = await cloud(
      `manage of replica ${saved.source_name}`,
      () =>
        cinder.manageVolume({
          host,
          ref: { 'source-name': saved.source_name },
          name: saved.name ?? saved.source_name,
          bootable: saved.bootable,
          metadata: {
            ...saved.metadata,
            dragon_source_volume: saved.volume_id,
            dragon_checkpoint: ctx.checkpointId,
          },
          ...(types.some((t) => t.name === saved.volume_type) ? { volume_type: saved.volume_type } : {}),
        }),
      ctx.signal,
    );
  } catch (err) {
    if ((err as { status?: unknown }).status === 403)
      throw new Error(
        `taking over replica ${saved.source_name} at ${ctx.backup.name} needs Cinder's manage-existing, which is admin-only in Cinder's default policy (volume_extension:volume_manage): ${(err as Error).message}`,
        { cause: err },
      );
    throw err;
  }
  await cinder.waitForVolume(volume.id, ['available'], {
    signal: ctx.signal,
    timeoutMs: timeoutMs(ctx.options, 3600),
    intervalMs: 200,
    maxIntervalMs: 5000,
  });
  ctx.progress(100, { bytes_done: 0, bytes_total: 0 });
  // Undone by unmanage, not delete: the replica belongs to the storage and must survive a rollback.
  return { volume_id: volume.id, created: [{ type: 'OS::Cinder::Volume', id: volume.id, undo: 'unmanage' }] };
}

/** Dry run: the replica must be visible to Cinder at the target (listing it is admin-only by default). */
const FORBIDDEN = Object.freeze({ status: 403 as const });

async function plan(ctx: RecoverContext): Promise<RecoverPlan> {
  const saved = ctx.saved as unknown as VolumeReplicationSaved;
  const host = (ctx.options.backup_host as string | undefined) ?? saved.host;
  const summary = `take over replica ${saved.source_name} of volume ${saved.volume_id} at ${ctx.backup.name} (Cinder manage-existing)`;
  const refused = (message: string): RecoverPlan => ({
    summary,
    bytes: 0,
    problems: [{ kind: 'replica', subject: saved.volume_id, message }],
  });
  if (!host)
    return refused(
      `no Cinder host known for the replica ${saved.source_name}; set the action option backup_host (host@backend#pool)`,
    );
  try {
    // One listing per backend and recovery: each plan asking again would be one backend scan per volume.
    // A refusal (403: admin-only by default) is an answer too, kept like a listing.
    const found = await oncePerExecution(
      ctx,
      `manageable volumes at ${ctx.backup.name} ${host} for ${ctx.backup.projectId}`,
      () =>
        ctx.backup.cinder
          .listManageableVolumes(host)
          .catch((err) => ((err as { status?: unknown }).status === 403 ? FORBIDDEN : Promise.reject(err))),
    );
    if (!Array.isArray(found)) throw found;
    const replica = found.find((m) =>
      Object.values(m.reference).some((r) => r === saved.source_name || r.endsWith(`/${saved.source_name}`)),
    );
    if (!replica)
      return refused(
        `replica ${saved.source_name} of volume ${saved.volume_id} is not visible at ${ctx.backup.name} (host ${host})`,
      );
    if (!replica.safe_to_manage)
      return refused(
        `replica ${saved.source_name} cannot be taken over: ${replica.reason_not_safe ?? 'not safe to manage'}`,
      );
    return { summary, bytes: 0 };
  } catch (err) {
    if ((err as { status?: unknown }).status === 403)
      return {
        summary,
        bytes: 0,
        warnings: [
          `replica ${saved.source_name} not checked: listing manageable volumes is admin-only, and so is taking it over`,
        ],
      };
    throw err;
  }
}

const plugin: ActionPlugin = {
  protect,
  recover,
  plan,
  // Protect created nothing; the replica belongs to the storage backend.
  delete: async () => ({ deleted: [] }),
};
export default plugin;

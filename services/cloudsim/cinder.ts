/**
 * Cinder (Block Storage API v3) of one simulated site: volumes as sparse raw
 * files under `<dataDir>/cinder/volumes/`, snapshots as frozen copies,
 * backups written into the site's Swift like the cinder-backup Swift driver,
 * export/import of backup records, manage-existing, a replicated volume type
 * mirrored through hard-linked replica files in a directory both regions
 * share, quotas with usage, user messages explaining errors, and the
 * `OpenStack-API-Version: volume 3.x` microversion header (3.0 - 3.70).
 * Fidelity notes: docs/cloud-api-notes/cinder.md.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  BACKUP_SERVICE,
  type BackupLocation,
  DEFAULT_BACKUP_CONTAINER,
  DEFAULT_OBJECT_SIZE,
  decodeRecord,
  deleteBackupObjects,
  encodeRecord,
  objectPrefix,
  readMetadata,
  restoreBackup,
  writeBackup,
} from './cinder-backup.js';
import { createSparse, GiB, resize, sparseCopy, volumeFile } from './cinder-data.js';
import {
  backupView,
  type CinderBackup,
  type CinderSnapshot,
  type CinderVolume,
  DEFAULT_QUOTAS,
  QUOTA_KEYS,
  type QuotaKey,
  snapshotView,
  typeView,
  type UserMessage,
  type VolumeType,
  volumeView,
} from './cinder-model.js';
import type { ImageServiceApi, ObjectStoreApi, SimVolumeAttachment, VolumeServiceApi } from './contracts.js';
import { callerOf, type SimCaller } from './sim-auth.js';
import type { ServiceFactory, SiteContext } from './site.js';
import { JsonState } from './storage-state.js';

export const MAX_MICROVERSION = 70;
export const DEFAULT_VOLUME_TYPE = '__DEFAULT__';
export const REPLICATED_VOLUME_TYPE = 'replicated';

export interface CinderOptions {
  /** Milliseconds before a status settles (creating → available, ...). */
  delayMs?: number;
  /** backup_swift_object_size. */
  backupObjectSize?: number;
}

interface CinderState {
  volumes: Record<string, CinderVolume>;
  snapshots: Record<string, CinderSnapshot>;
  backups: Record<string, CinderBackup>;
  types: Record<string, VolumeType>;
  quotas: Record<string, Partial<Record<QuotaKey, number>>>;
  messages: UserMessage[];
}

const SEED_TYPES: VolumeType[] = [
  {
    id: '00000000-0000-4000-8000-000000000001',
    name: DEFAULT_VOLUME_TYPE,
    description: 'Default Volume Type',
    is_public: true,
    extra_specs: {},
  },
  {
    id: '00000000-0000-4000-8000-000000000002',
    name: 'lvmdriver-1',
    description: null,
    is_public: true,
    extra_specs: { volume_backend_name: 'lvmdriver-1' },
  },
  {
    id: '00000000-0000-4000-8000-000000000003',
    name: REPLICATED_VOLUME_TYPE,
    description: 'Volumes mirrored to the other region',
    is_public: true,
    extra_specs: { volume_backend_name: 'lvmdriver-1', replication_enabled: '<is> True' },
  },
];

class CinderFault extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}
const badRequest = (m: string) => new CinderFault(400, 'badRequest', m);
const notFound = (m: string) => new CinderFault(404, 'itemNotFound', m);
const forbidden = (m: string) => new CinderFault(403, 'forbidden', m);
const overLimit = (m: string) => new CinderFault(413, 'overLimit', m);

const now = () => new Date().toISOString().replace(/Z$/, '000');
const isTrue = (v: unknown) =>
  v === true || (typeof v === 'string' && ['true', '1', 'yes'].includes(v.toLowerCase()));

export function makeCinderService(opts: CinderOptions = {}): ServiceFactory {
  return (site) => createCinder(site, opts);
}

/** The factory for startCloud/startSite. Backups need the site's `object-store` service at run time. */
export const cinderService: ServiceFactory = makeCinderService();

/**
 * Work in flight when the simulator stopped is lost; settle what it left the
 * way cinder-volume's and cinder-backup's init_host do after a restart.
 */
function recoverAfterRestart(db: CinderState): void {
  const volumeAfter: Record<string, string> = {
    creating: 'error',
    extending: 'error_extending',
    'restoring-backup': 'error_restoring',
    managing: 'error_managing',
    deleting: 'error_deleting',
  };
  for (const v of Object.values(db.volumes)) {
    if (v.status === 'backing-up' || v.status === 'uploading') {
      v.status = v.previous_status ?? 'available';
      delete v.previous_status;
    } else if (volumeAfter[v.status]) v.status = volumeAfter[v.status];
  }
  for (const s of Object.values(db.snapshots)) {
    if (s.status === 'creating') s.status = 'error';
    else if (s.status === 'deleting') s.status = 'error_deleting';
    else if (s.status === 'backing-up') s.status = 'available';
  }
  for (const b of Object.values(db.backups)) {
    if (b.status === 'creating' || b.status === 'deleting') {
      b.status = 'error';
      b.fail_reason = 'cinder-backup restarted while the backup was in progress';
    } else if (b.status === 'restoring') b.status = 'available';
  }
}

function createCinder(site: SiteContext, opts: CinderOptions): VolumeServiceApi {
  const delay = opts.delayMs ?? 100;
  const objectSize = opts.backupObjectSize ?? DEFAULT_OBJECT_SIZE;
  const root = join(site.dataDir, 'cinder');
  const volDir = join(root, 'volumes');
  const snapDir = join(root, 'snapshots');
  /** Shared by every region of the cloud: the replication "link" (see docs). */
  const replicaDir = join(site.dataDir, '..', 'replicas');
  for (const d of [volDir, snapDir, replicaDir]) mkdirSync(d, { recursive: true });
  const state = new JsonState<CinderState>(root, () => ({
    volumes: {},
    snapshots: {},
    backups: {},
    types: Object.fromEntries(SEED_TYPES.map((t) => [t.id, t])),
    quotas: {},
    messages: [],
  }));
  const db = state.data;
  recoverAfterRestart(db);
  const save = () => state.save();
  const volPath = (id: string) => volumeFile(site.dataDir, id);
  const snapPath = (id: string) => join(snapDir, `snapshot-${id}`);
  const replicaPath = (id: string) => join(replicaDir, `volume-${id}`);

  const stuck = (id: string, name?: string | null) =>
    site.faults.stuck.has(id) || (!!name && site.faults.stuck.has(name));

  /** Runs background work after the settle delay; failures go to `onError`. Cleared when the site stops. */
  const timers = new Set<NodeJS.Timeout>();
  function later(work: () => Promise<void>, onError: (err: Error) => void) {
    const t = setTimeout(() => {
      timers.delete(t);
      work().catch((err: Error) => onError(err));
    }, delay);
    timers.add(t);
  }

  function userMessage(projectId: string, type: UserMessage['resource_type'], id: string, text: string) {
    db.messages.push({
      id: randomUUID(),
      project_id: projectId,
      resource_type: type,
      resource_uuid: id,
      user_message: text,
      event_id: 'VOLUME_000001',
      message_level: 'ERROR',
      created_at: now(),
    });
    save();
  }

  function setStatus(
    obj: { id: string; name: string | null; status: string; updated_at: string | null },
    status: string,
  ) {
    if (stuck(obj.id, obj.name)) return;
    obj.status = status;
    obj.updated_at = now();
    save();
  }

  function failVolume(v: CinderVolume, err: Error, status = 'error') {
    v.status = status;
    v.updated_at = now();
    userMessage(v.project_id, 'VOLUME', v.id, err.message);
  }

  // ---- lookups honouring project isolation -------------------------------------------------

  const owns = (c: SimCaller, projectId: string) => c.isAdmin || c.projectId === projectId;
  function volume(c: SimCaller, id: string): CinderVolume {
    const v = db.volumes[id];
    if (!v || !owns(c, v.project_id)) throw notFound(`Volume ${id} could not be found.`);
    return v;
  }
  function snapshot(c: SimCaller, id: string): CinderSnapshot {
    const s = db.snapshots[id];
    if (!s || !owns(c, s.project_id)) throw notFound(`Snapshot ${id} could not be found.`);
    return s;
  }
  function backup(c: SimCaller, id: string): CinderBackup {
    const b = db.backups[id];
    if (!b || !owns(c, b.project_id)) throw notFound(`Backup ${id} could not be found.`);
    return b;
  }
  function volumeType(ref: string | undefined | null): VolumeType {
    const name = ref ?? DEFAULT_VOLUME_TYPE;
    const t = db.types[name] ?? Object.values(db.types).find((x) => x.name === name);
    if (!t) throw notFound(`Volume type with name ${name} could not be found.`);
    return t;
  }
  const replicated = (t: VolumeType) => /^<is>\s*true$/i.test(t.extra_specs.replication_enabled ?? '');

  // ---- quotas ------------------------------------------------------------------------------

  function limits(projectId: string): Record<QuotaKey, number> {
    return { ...DEFAULT_QUOTAS, ...(db.quotas[projectId] ?? {}) };
  }
  function usage(projectId: string): Record<QuotaKey, number> {
    const vols = Object.values(db.volumes).filter((v) => v.project_id === projectId);
    const snaps = Object.values(db.snapshots).filter((s) => s.project_id === projectId);
    const backs = Object.values(db.backups).filter((b) => b.project_id === projectId);
    return {
      volumes: vols.length,
      gigabytes: vols.reduce((n, v) => n + v.size, 0) + snaps.reduce((n, s) => n + s.size, 0),
      snapshots: snaps.length,
      backups: backs.length,
      backup_gigabytes: backs.reduce((n, b) => n + b.size, 0),
      per_volume_gigabytes: 0,
      groups: 0,
    };
  }
  function checkQuota(projectId: string, want: Partial<Record<QuotaKey, number>>) {
    const lim = limits(projectId);
    const used = usage(projectId);
    if (
      want.gigabytes !== undefined &&
      lim.per_volume_gigabytes >= 0 &&
      want.gigabytes > lim.per_volume_gigabytes
    )
      throw overLimit(
        `VolumeSizeExceedsLimit: Requested volume size ${want.gigabytes}G is larger than maximum allowed limit ${lim.per_volume_gigabytes}G.`,
      );
    for (const [k, n] of Object.entries(want) as Array<[QuotaKey, number]>) {
      if (lim[k] < 0 || used[k] + n <= lim[k]) continue;
      if (k === 'gigabytes' || k === 'backup_gigabytes')
        throw overLimit(
          `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed ${k} quota. Requested ${n}G, quota is ${lim[k]}G and ${used[k]}G has been consumed.`,
        );
      throw overLimit(`Maximum number of ${k} allowed (${lim[k]}) exceeded for quota '${k}'.`);
    }
  }

  // ---- volumes -----------------------------------------------------------------------------

  function newVolume(
    c: SimCaller,
    fields: Partial<CinderVolume> & { size: number },
    type: VolumeType,
  ): CinderVolume {
    const v: CinderVolume = {
      id: randomUUID(),
      name: fields.name ?? null,
      description: fields.description ?? null,
      size: fields.size,
      status: 'creating',
      project_id: c.projectId,
      user_id: c.userId,
      volume_type: type.name,
      availability_zone: fields.availability_zone ?? 'nova',
      bootable: false,
      metadata: { ...(fields.metadata ?? {}) },
      attachments: [],
      snapshot_id: fields.snapshot_id ?? null,
      source_volid: fields.source_volid ?? null,
      backup_id: fields.backup_id ?? null,
      replication_status: replicated(type) ? 'enabled' : 'disabled',
      created_at: now(),
      updated_at: null,
    };
    db.volumes[v.id] = v;
    return v;
  }

  /** The volume's file exists from the start; a replicated volume's replica is a hard link to it. */
  async function allocate(v: CinderVolume) {
    await createSparse(volPath(v.id), v.size * GiB);
    if (v.replication_status === 'enabled') {
      try {
        linkSync(volPath(v.id), replicaPath(v.id));
        v.metadata.replica_id = `volume-${v.id}`;
      } catch (err) {
        v.replication_status = 'disabled';
        userMessage(
          v.project_id,
          'VOLUME',
          v.id,
          `replication could not be enabled: ${(err as Error).message}`,
        );
      }
    }
    save();
  }

  function imageFor(c: SimCaller, ref: string) {
    let glance: ImageServiceApi;
    try {
      glance = site.service<ImageServiceApi>('image');
    } catch {
      throw badRequest('Invalid image identifier or unable to access requested image.');
    }
    const img = glance.getImage(ref);
    const visible =
      img &&
      (c.isAdmin ||
        img.owner === c.projectId ||
        img.visibility === 'public' ||
        img.visibility === 'community');
    if (!img || !visible) throw badRequest('Invalid image identifier or unable to access requested image.');
    if (img.status !== 'active') throw badRequest(`Image ${ref} is not active.`);
    const path = glance.imageDataPath(ref);
    if (!path) throw badRequest(`Image ${ref} has no data.`);
    return { img, path };
  }

  function createVolume(c: SimCaller, body: Record<string, unknown>, mv: number): CinderVolume {
    const snapshotId = body.snapshot_id as string | undefined;
    const sourceId = body.source_volid as string | undefined;
    const imageRef = (body.imageRef ?? body.image_id) as string | undefined;
    const backupId = mv >= 47 ? (body.backup_id as string | undefined) : undefined;
    const snap = snapshotId ? snapshot(c, snapshotId) : undefined;
    const src = sourceId ? volume(c, sourceId) : undefined;
    const bak = backupId ? backup(c, backupId) : undefined;
    const image = imageRef ? imageFor(c, imageRef) : undefined;
    let size =
      body.size === undefined || body.size === null
        ? (snap?.size ?? src?.size ?? bak?.size)
        : Number(body.size);
    if (size === undefined || !Number.isInteger(size) || size <= 0)
      throw badRequest(
        `Invalid input received: volume size '${String(body.size)}' must be an integer and greater than 0.`,
      );
    if (snap && snap.status !== 'available')
      throw badRequest(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    if (snap && size < snap.size)
      throw badRequest(
        `Invalid input received: Volume size '${size}'GB cannot be smaller than the snapshot size ${snap.size}GB. They must be >= original snapshot size.`,
      );
    if (src && size < src.size)
      throw badRequest(
        `Invalid input received: Volume size '${size}'GB cannot be smaller than original volume size ${src.size}GB. They must be >= original volume size.`,
      );
    if (src && !['available', 'in-use'].includes(src.status))
      throw badRequest(`Invalid volume: Volume ${src.id} status must be available or in-use.`);
    if (bak && bak.status !== 'available')
      throw badRequest(`Invalid backup: Backup status must be available and not ${bak.status}.`);
    if (bak && size < bak.size)
      throw badRequest(
        `Invalid input received: Volume size ${size}GB cannot be smaller than the backup size ${bak.size}GB.`,
      );
    if (image) {
      const imgGb = Math.ceil((image.img.size ?? 0) / GiB);
      if (imgGb > size)
        throw badRequest(
          `Invalid input received: Size of specified image ${imgGb}GB is larger than volume size ${size}GB.`,
        );
    }
    size = Math.trunc(size);
    const type = volumeType(
      (body.volume_type as string | undefined) ??
        (src ? src.volume_type : snap ? db.volumes[snap.volume_id]?.volume_type : undefined),
    );
    checkQuota(c.projectId, { volumes: 1, gigabytes: size });
    const v = newVolume(
      c,
      {
        size,
        name: (body.name as string) ?? null,
        description: (body.description as string) ?? null,
        availability_zone: body.availability_zone as string | undefined,
        metadata: (body.metadata as Record<string, string>) ?? {},
        snapshot_id: snap?.id ?? null,
        source_volid: src?.id ?? null,
        backup_id: bak?.id ?? null,
      },
      type,
    );
    if (image) {
      v.volume_image_metadata = {
        image_id: image.img.id,
        image_name: image.img.name ?? '',
        checksum: image.img.checksum ?? '',
        disk_format: image.img.disk_format ?? '',
        container_format: image.img.container_format ?? '',
        size: String(image.img.size ?? 0),
      };
    }
    save();
    if (bak) bak.status = 'restoring';
    later(
      async () => {
        await allocate(v);
        const bytes = v.size * GiB;
        if (snap) await sparseCopy(snapPath(snap.id), volPath(v.id), bytes);
        else if (src) await sparseCopy(volPath(src.id), volPath(v.id), bytes);
        else if (image) await sparseCopy(image.path, volPath(v.id), bytes);
        else if (bak) {
          await restoreBackup(objectStore(), location(bak), volPath(v.id), bytes);
          bak.status = 'available';
        }
        if (image || (src?.bootable ?? false)) v.bootable = true;
        setStatus(v, 'available');
      },
      (err) => {
        if (bak) bak.status = 'available';
        failVolume(v, err);
      },
    );
    return v;
  }

  function deleteVolume(c: SimCaller, v: CinderVolume, cascade: boolean) {
    const ok = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];
    const snaps = Object.values(db.snapshots).filter((s) => s.volume_id === v.id);
    if (!ok.includes(v.status) || v.attachments.length || (snaps.length && !cascade))
      throw badRequest(
        'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots or be disassociated from snapshots after volume transfer.',
      );
    if (!owns(c, v.project_id)) throw notFound(`Volume ${v.id} could not be found.`);
    v.status = 'deleting';
    save();
    later(
      async () => {
        if (stuck(v.id, v.name)) return;
        for (const s of snaps) {
          await rm(snapPath(s.id), { force: true });
          delete db.snapshots[s.id];
        }
        await rm(volPath(v.id), { force: true });
        await rm(replicaPath(v.id), { force: true });
        delete db.volumes[v.id];
        save();
      },
      (err) => failVolume(v, err, 'error_deleting'),
    );
  }

  // ---- backups -----------------------------------------------------------------------------

  function objectStore(): ObjectStoreApi {
    try {
      return site.service<ObjectStoreApi>('object-store');
    } catch {
      throw new Error(`site ${site.region} has no object-store service for cinder-backup`);
    }
  }
  const location = (b: CinderBackup): BackupLocation => ({
    account: b.account,
    container: b.container,
    prefix: b.service_metadata,
  });

  function createBackup(c: SimCaller, body: Record<string, unknown>): CinderBackup {
    const v = volume(c, String(body.volume_id ?? ''));
    const snap = body.snapshot_id ? snapshot(c, String(body.snapshot_id)) : undefined;
    if (snap && snap.volume_id !== v.id)
      throw badRequest(`Invalid snapshot: Snapshot ${snap.id} is not a snapshot of volume ${v.id}.`);
    if (snap && snap.status !== 'available')
      throw badRequest(
        `Invalid snapshot: Snapshot to be backed up must be available, but the current status is "${snap.status}".`,
      );
    if (!snap && v.status === 'in-use' && !isTrue(body.force))
      throw badRequest('Invalid volume: Backing up an in-use volume must use the force flag.');
    if (!snap && !['available', 'in-use'].includes(v.status))
      throw badRequest(
        `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${v.status}".`,
      );
    const incremental = isTrue(body.incremental);
    let parent: CinderBackup | undefined;
    if (incremental) {
      parent = Object.values(db.backups)
        .filter((b) => b.volume_id === v.id && b.status === 'available')
        .sort((a, b) => (a.data_timestamp < b.data_timestamp ? 1 : -1))[0];
      if (!parent) throw badRequest('Invalid backup: No backups available to do an incremental backup.');
    }
    checkQuota(c.projectId, { backups: 1, backup_gigabytes: v.size });
    const id = randomUUID();
    const b: CinderBackup = {
      id,
      name: (body.name as string) ?? null,
      description: (body.description as string) ?? null,
      volume_id: v.id,
      snapshot_id: snap?.id ?? null,
      status: 'creating',
      size: v.size,
      object_count: 0,
      container: (body.container as string) || DEFAULT_BACKUP_CONTAINER,
      account: `AUTH_${c.projectId}`,
      service_metadata: objectPrefix(v.id, id, v.availability_zone),
      availability_zone: v.availability_zone,
      project_id: c.projectId,
      user_id: c.userId,
      is_incremental: incremental,
      parent_id: parent?.id ?? null,
      fail_reason: null,
      metadata: (body.metadata as Record<string, string>) ?? {},
      created_at: now(),
      updated_at: null,
      data_timestamp: now(),
    };
    db.backups[id] = b;
    const holder: { status: string; previous_status?: string } = snap ?? v;
    holder.previous_status = holder.status;
    holder.status = 'backing-up';
    save();
    const source = snap ? snapPath(snap.id) : volPath(v.id);
    const restoreHolder = () => {
      holder.status = holder.previous_status ?? 'available';
      delete holder.previous_status;
    };
    later(
      async () => {
        b.object_count = await writeBackup(
          objectStore(),
          location(b),
          source,
          b.size * GiB,
          { backupId: b.id, volumeId: v.id, name: b.name, description: b.description, parentId: b.parent_id },
          objectSize,
        );
        restoreHolder();
        setStatus(b, 'available');
      },
      (err) => {
        restoreHolder();
        b.status = 'error';
        b.fail_reason = err.message;
        userMessage(b.project_id, 'VOLUME_BACKUP', b.id, err.message);
      },
    );
    return b;
  }

  // ---- HTTP --------------------------------------------------------------------------------

  const router = express.Router();
  const api = express.Router({ mergeParams: true });
  const json = express.json({ limit: '1mb' });

  router.get('/', (_req, res) => {
    res.status(300).json({ versions: [versionDoc()] });
  });
  const versionDoc = () => ({
    id: 'v3.0',
    status: 'CURRENT',
    version: `3.${MAX_MICROVERSION}`,
    min_version: '3.0',
    updated: '2022-08-31T00:00:00Z',
    links: [{ rel: 'self', href: `${site.endpoint('volumev3')}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  });
  router.get('/v3', (_req, res) => res.json({ versions: [versionDoc()] }));

  router.use('/v3/:project_id', site.auth, microversion, (req, res, next) => {
    const c = callerOf(res);
    if (req.params.project_id !== c.projectId) return sendFault(res, badRequest('Malformed request url'));
    next();
  });
  router.use('/v3/:project_id', json, api);
  // Malformed JSON bodies: Cinder's fault, not express's HTML page.
  router.use((err: Error & { status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    sendFault(res, badRequest(err.status === 400 ? 'Malformed request body' : err.message));
  });

  function microversion(req: Request, res: Response, next: NextFunction) {
    const header = req.get('OpenStack-API-Version') ?? '';
    const m = /volume\s+(latest|3\.(\d+))/i.exec(header);
    let minor = 0;
    if (m) minor = m[1].toLowerCase() === 'latest' ? MAX_MICROVERSION : Number(m[2]);
    res.set('OpenStack-API-Version', `volume 3.${minor}`);
    res.set('Vary', 'OpenStack-API-Version');
    if (minor > MAX_MICROVERSION)
      return sendFault(
        res,
        new CinderFault(
          406,
          'notAcceptable',
          `Version 3.${minor} is not supported by the API. Minimum is 3.0 and maximum is 3.${MAX_MICROVERSION}.`,
        ),
      );
    res.locals.mv = minor;
    next();
  }

  function sendFault(res: Response, f: CinderFault) {
    res.status(f.status).json({ [f.kind]: { code: f.status, message: f.message } });
  }

  /** Route wrapper: CinderFault → Cinder's error body; anything else → 500 computeFault-style. */
  const h =
    (fn: (req: Request, res: Response, c: SimCaller, mv: number) => unknown) =>
    (req: Request, res: Response) => {
      try {
        fn(req, res, callerOf(res), res.locals.mv as number);
      } catch (err) {
        if (err instanceof CinderFault) sendFault(res, err);
        else {
          res.status(500).json({
            computeFault: {
              code: 500,
              message: 'The server has either erred or is incapable of performing the requested operation.',
            },
          });
        }
      }
    };

  const baseUrl = (req: Request) => `${site.endpoint('volumev3')}/v3/${req.params.project_id}`;
  const requireAdmin = (c: SimCaller, action: string) => {
    if (!c.isAdmin) throw forbidden(`Policy doesn't allow ${action} to be performed.`);
  };
  const bodyOf = (req: Request, key: string): Record<string, unknown> => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const inner = b[key];
    if (typeof inner !== 'object' || inner === null)
      throw badRequest(`Missing required element '${key}' in request body.`);
    return inner as Record<string, unknown>;
  };

  /** Filtering, all_tenants, marker/limit paging of a collection, with `<name>_links` when more remain. */
  function page<T extends { id: string; project_id: string; created_at: string }>(
    req: Request,
    c: SimCaller,
    items: T[],
    filterKeys: string[],
  ): { items: T[]; next?: string } {
    const q = req.query as Record<string, string | undefined>;
    const all = c.isAdmin && isTrue(q.all_tenants ?? q.all_projects);
    let list = items.filter((i) => (all ? true : i.project_id === c.projectId));
    if (all && q.project_id) list = list.filter((i) => i.project_id === q.project_id);
    for (const k of filterKeys)
      if (q[k] !== undefined) list = list.filter((i) => String((i as Record<string, unknown>)[k]) === q[k]);
    list.sort((a, b) =>
      a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1,
    );
    if (q.marker) {
      const at = list.findIndex((i) => i.id === q.marker);
      if (at < 0) throw notFound(`Marker ${q.marker} could not be found.`);
      list = list.slice(at + 1);
    }
    const limit = q.limit ? Number(q.limit) : 1000;
    if (!Number.isInteger(limit) || limit < 0)
      throw badRequest(`Invalid input received: limit must be a non-negative integer.`);
    const out = list.slice(0, limit);
    if (list.length > limit && out.length) {
      const u = new URL(`${baseUrl(req)}${req.path}`);
      for (const [k, v] of Object.entries(q)) if (v !== undefined && k !== 'marker') u.searchParams.set(k, v);
      u.searchParams.set('marker', out[out.length - 1].id);
      return { items: out, next: u.toString() };
    }
    return { items: out };
  }
  const withLinks = (key: string, body: unknown[], next?: string) => ({
    [key]: body,
    ...(next ? { [`${key}_links`]: [{ rel: 'next', href: next }] } : {}),
  });
  const brief = (base: string, collection: string, i: { id: string; name: string | null }) => ({
    id: i.id,
    name: i.name,
    links: [{ rel: 'self', href: `${base}/${collection}/${i.id}` }],
  });
  /** `GET /<collection>` and `GET /<collection>/detail`: the same paging, a brief and a full view. */
  function listRoutes<T extends { id: string; project_id: string; created_at: string }>(
    collection: string,
    records: () => T[],
    filters: { brief: string[]; detail: string[] },
    views: {
      brief: (item: T, req: Request, c: SimCaller) => unknown;
      detail: (item: T, req: Request, c: SimCaller) => unknown;
    },
  ): void {
    for (const kind of ['brief', 'detail'] as const) {
      api.get(
        kind === 'brief' ? `/${collection}` : `/${collection}/detail`,
        h((req, res, c) => {
          const p = page(req, c, records(), filters[kind]);
          res.json(
            withLinks(
              collection,
              p.items.map((i) => views[kind](i, req, c)),
              p.next,
            ),
          );
        }),
      );
    }
  }

  // volumes
  api.post(
    '/volumes',
    h((req, res, c, mv) => {
      const v = createVolume(c, bodyOf(req, 'volume'), mv);
      res.status(202).json({ volume: volumeView(v, baseUrl(req), c.isAdmin) });
    }),
  );
  listRoutes(
    'volumes',
    () => Object.values(db.volumes),
    {
      brief: ['name', 'status', 'bootable', 'availability_zone'],
      detail: ['name', 'status', 'availability_zone'],
    },
    {
      brief: (v, req) => brief(baseUrl(req), 'volumes', v),
      detail: (v, req, c) => volumeView(v, baseUrl(req), c.isAdmin),
    },
  );
  api.get(
    '/volumes/:id',
    h((req, res, c) => {
      res.json({ volume: volumeView(volume(c, String(req.params.id)), baseUrl(req), c.isAdmin) });
    }),
  );
  api.put(
    '/volumes/:id',
    h((req, res, c) => {
      const v = volume(c, String(req.params.id));
      const b = bodyOf(req, 'volume');
      if (b.name !== undefined) v.name = b.name as string;
      if (b.description !== undefined) v.description = b.description as string;
      if (b.metadata !== undefined) v.metadata = { ...(b.metadata as Record<string, string>) };
      v.updated_at = now();
      save();
      res.json({ volume: volumeView(v, baseUrl(req), c.isAdmin) });
    }),
  );
  api.delete(
    '/volumes/:id',
    h((req, res, c) => {
      deleteVolume(c, volume(c, String(req.params.id)), isTrue(req.query.cascade));
      res.status(202).end();
    }),
  );
  api.post(
    '/volumes/:id/action',
    h((req, res, c, mv) => {
      const v = volume(c, String(req.params.id));
      const body = (req.body ?? {}) as Record<string, Record<string, unknown> | null>;
      const action = Object.keys(body)[0];
      const args = (body[action] ?? {}) as Record<string, unknown>;
      switch (action) {
        case 'os-extend': {
          const size = Number(args.new_size);
          if (!(v.status === 'available' || (v.status === 'in-use' && mv >= 42)))
            throw badRequest(
              `Invalid volume: Volume ${v.id} status must be available or in-use, but current status is: ${v.status}.`,
            );
          if (!Number.isInteger(size) || size <= v.size)
            throw badRequest(
              `Invalid input received: New size for extend must be greater than current size. (current: ${v.size}, extended: ${String(args.new_size)}).`,
            );
          checkQuota(v.project_id, { gigabytes: size - v.size });
          const back = v.status;
          v.status = 'extending';
          save();
          later(
            async () => {
              await resize(volPath(v.id), size * GiB);
              v.size = size;
              setStatus(v, back);
            },
            (err) => failVolume(v, err, 'error_extending'),
          );
          return res.status(202).end();
        }
        case 'os-reset_status': {
          requireAdmin(c, 'volume_extension:volume_admin_actions:reset_status');
          if (typeof args.status === 'string') v.status = args.status;
          if (args.attach_status === 'detached') v.attachments = [];
          v.updated_at = now();
          save();
          return res.status(202).end();
        }
        case 'os-unmanage': {
          // Cinder forgets the volume; the backend keeps its bytes (a taken-over replica stays a replica).
          requireAdmin(c, 'volume_extension:volume_unmanage');
          if (v.status !== 'available' && v.status !== 'error')
            throw badRequest(
              `Invalid volume: Volume ${v.id} status must be available or error, but current status is: ${v.status}.`,
            );
          delete db.volumes[v.id];
          save();
          return res.status(202).end();
        }
        case 'os-force_detach': {
          requireAdmin(c, 'volume_extension:volume_admin_actions:force_detach');
          v.attachments = args.attachment_id ? v.attachments.filter((a) => a.id !== args.attachment_id) : [];
          if (!v.attachments.length) v.status = 'available';
          save();
          return res.status(202).end();
        }
        case 'os-attach': {
          const a = attach(v.id, String(args.instance_uuid ?? ''), String(args.mountpoint ?? '/dev/vdb'));
          a.host_name = (args.host_name as string) ?? null;
          return res.status(202).end();
        }
        case 'os-detach': {
          const a = v.attachments.find((x) => !args.attachment_id || x.id === args.attachment_id);
          if (!a) throw badRequest(`Invalid volume: Volume ${v.id} is not attached.`);
          detach(v.id, a.server_id);
          return res.status(202).end();
        }
        case 'os-set_bootable': {
          v.bootable = isTrue(args.bootable);
          save();
          return res.status(200).end();
        }
        case 'os-volume_upload_image':
          return res.status(202).json({ 'os-volume_upload_image': uploadToImage(c, v, args, mv) });
        default:
          throw badRequest(`There is no such action: ${action}`);
      }
    }),
  );

  function uploadToImage(c: SimCaller, v: CinderVolume, args: Record<string, unknown>, mv: number) {
    if (!(v.status === 'available' || (v.status === 'in-use' && isTrue(args.force))))
      throw badRequest(
        `Invalid volume: Volume ${v.id} status must be available or in-use, but current status is: ${v.status}.`,
      );
    if (!args.image_name) throw badRequest("Invalid input received: 'image_name' is required.");
    let glance: ImageServiceApi;
    try {
      glance = site.service<ImageServiceApi>('image');
    } catch {
      throw new CinderFault(503, 'serviceUnavailable', 'The image service is not available.');
    }
    const visibility = mv >= 1 && typeof args.visibility === 'string' ? args.visibility : 'private';
    if (visibility === 'public' && !c.isAdmin)
      throw forbidden("Policy doesn't allow volume_extension:volume_actions:upload_public to be performed.");
    const img = glance.createQueuedImage(c.projectId, {
      name: String(args.image_name),
      disk_format: (args.disk_format as string) ?? 'raw',
      container_format: (args.container_format as string) ?? 'bare',
      visibility: visibility as 'private',
    });
    v.previous_status = v.status;
    v.status = 'uploading';
    save();
    const done = () => {
      v.status = v.previous_status ?? 'available';
      delete v.previous_status;
      v.updated_at = now();
      save();
    };
    later(
      async () => {
        await glance.uploadImageFromFile(img.id, volPath(v.id));
        done();
      },
      (err) => {
        done();
        userMessage(v.project_id, 'VOLUME', v.id, `Failed to upload the volume to an image: ${err.message}`);
      },
    );
    return {
      id: v.id,
      updated_at: v.updated_at,
      status: 'uploading',
      display_description: v.description,
      size: v.size,
      volume_type: typeView(volumeType(v.volume_type), c.isAdmin),
      image_id: img.id,
      container_format: img.container_format,
      disk_format: img.disk_format,
      image_name: img.name,
      visibility,
      protected: false,
    };
  }

  // manage existing / manageable volumes
  function manageable(): Array<{ name: string; path: string; cinderId: string | null }> {
    const out: Array<{ name: string; path: string; cinderId: string | null }> = [];
    const managed = new Set(Object.keys(db.volumes).map((id) => `volume-${id}`));
    for (const dir of [volDir, replicaDir]) {
      for (const name of existsSync(dir) ? readdirSync(dir) : []) {
        if (!name.startsWith('volume-') || out.some((o) => o.name === name)) continue;
        out.push({ name, path: join(dir, name), cinderId: managed.has(name) ? name.slice(7) : null });
      }
    }
    return out;
  }
  api.post(
    '/os-volume-manage',
    h((req, res, c) => {
      requireAdmin(c, 'volume_extension:volume_manage');
      const b = bodyOf(req, 'volume');
      const ref = (b.ref ?? {}) as Record<string, string>;
      const wanted = ref['source-name'] ?? (ref['source-id'] ? `volume-${ref['source-id']}` : undefined);
      if (!b.host) throw badRequest("Invalid input received: 'host' is required.");
      const found = wanted ? manageable().find((m) => m.name === wanted.split('/').pop()) : undefined;
      if (!found)
        throw badRequest(
          `Manage existing volume failed due to invalid backend reference ${JSON.stringify(ref)}: Volume not found.`,
        );
      if (found.cinderId && db.volumes[found.cinderId])
        throw badRequest(`Invalid volume: Volume ${found.name} is already managed by Cinder.`);
      const size = Math.max(1, Math.ceil(statSync(found.path).size / GiB));
      const type = volumeType(b.volume_type as string | undefined);
      checkQuota(c.projectId, { volumes: 1, gigabytes: size });
      const v = newVolume(
        c,
        {
          size,
          name: (b.name as string) ?? null,
          description: (b.description as string) ?? null,
          availability_zone: b.availability_zone as string | undefined,
          metadata: { ...((b.metadata as Record<string, string>) ?? {}), managed_from: found.name },
        },
        type,
      );
      v.bootable = isTrue(b.bootable);
      save();
      later(
        async () => {
          await allocate(v);
          // Adopting a replica promotes a copy: the new volume no longer moves with the old primary.
          await sparseCopy(found.path, volPath(v.id), v.size * GiB);
          setStatus(v, 'available');
        },
        (err) => failVolume(v, err, 'error_managing'),
      );
      res.status(202).json({ volume: volumeView(v, baseUrl(req), c.isAdmin) });
    }),
  );
  const manageableList = (detail: boolean) =>
    h((_req, res, c) => {
      requireAdmin(c, 'volume_extension:list_manageable');
      res.json({
        'manageable-volumes': manageable().map((m) => ({
          reference: { 'source-name': m.name },
          size: Math.max(1, Math.ceil(statSync(m.path).size / GiB)),
          safe_to_manage: !m.cinderId,
          ...(detail
            ? {
                reason_not_safe: m.cinderId ? 'already managed' : null,
                cinder_id: m.cinderId,
                extra_info: m.path.startsWith(replicaDir) ? 'replica' : null,
              }
            : {}),
        })),
      });
    });
  api.get('/manageable_volumes', manageableList(false));
  api.get('/manageable_volumes/detail', manageableList(true));

  // volume types
  api.get(
    '/types',
    h((_req, res, c) => {
      res.json({ volume_types: Object.values(db.types).map((t) => typeView(t, c.isAdmin)) });
    }),
  );
  api.get(
    '/types/default',
    h((_req, res, c) => res.json({ volume_type: typeView(volumeType(DEFAULT_VOLUME_TYPE), c.isAdmin) })),
  );
  api.get(
    '/types/:id',
    h((req, res, c) => {
      const t =
        db.types[String(req.params.id)] ?? Object.values(db.types).find((x) => x.name === req.params.id);
      if (!t) throw notFound(`Volume type ${String(req.params.id)} could not be found.`);
      res.json({ volume_type: typeView(t, c.isAdmin) });
    }),
  );

  // snapshots
  api.post(
    '/snapshots',
    h((req, res, c) => {
      const b = bodyOf(req, 'snapshot');
      const v = volume(c, String(b.volume_id ?? ''));
      if (!(v.status === 'available' || (v.status === 'in-use' && isTrue(b.force))))
        throw badRequest(
          `Invalid volume: Volume ${v.id} status must be available, but current status is: ${v.status}.`,
        );
      checkQuota(c.projectId, { snapshots: 1, gigabytes: v.size });
      const s: CinderSnapshot = {
        id: randomUUID(),
        name: (b.name as string) ?? null,
        description: (b.description as string) ?? null,
        volume_id: v.id,
        size: v.size,
        status: 'creating',
        project_id: c.projectId,
        user_id: c.userId,
        metadata: (b.metadata as Record<string, string>) ?? {},
        created_at: now(),
        updated_at: null,
      };
      db.snapshots[s.id] = s;
      save();
      // The copy starts now: the snapshot holds the bytes of this moment.
      const copying = sparseCopy(volPath(v.id), snapPath(s.id), v.size * GiB);
      later(
        async () => {
          await copying;
          setStatus(s, 'available');
        },
        (err) => {
          s.status = 'error';
          userMessage(s.project_id, 'VOLUME_SNAPSHOT', s.id, err.message);
        },
      );
      copying.catch(() => {});
      res.status(202).json({ snapshot: snapshotView(s, baseUrl(req)) });
    }),
  );
  listRoutes(
    'snapshots',
    () => Object.values(db.snapshots),
    { brief: ['name', 'status', 'volume_id'], detail: ['name', 'status', 'volume_id'] },
    { brief: (s, req) => snapshotView(s, baseUrl(req)), detail: (s, req) => snapshotView(s, baseUrl(req)) },
  );
  api.get(
    '/snapshots/:id',
    h((req, res, c) =>
      res.json({ snapshot: snapshotView(snapshot(c, String(req.params.id)), baseUrl(req)) }),
    ),
  );
  api.put(
    '/snapshots/:id',
    h((req, res, c) => {
      const s = snapshot(c, String(req.params.id));
      const b = bodyOf(req, 'snapshot');
      if (b.name !== undefined) s.name = b.name as string;
      if (b.description !== undefined) s.description = b.description as string;
      s.updated_at = now();
      save();
      res.json({ snapshot: snapshotView(s, baseUrl(req)) });
    }),
  );
  api.delete(
    '/snapshots/:id',
    h((req, res, c) => {
      const s = snapshot(c, String(req.params.id));
      if (!['available', 'error'].includes(s.status))
        throw badRequest(
          `Invalid snapshot: Volume Snapshot status must be available or error, but current status is: ${s.status}.`,
        );
      s.status = 'deleting';
      save();
      later(
        async () => {
          if (stuck(s.id, s.name)) return;
          await rm(snapPath(s.id), { force: true });
          delete db.snapshots[s.id];
          save();
        },
        () => {
          s.status = 'error_deleting';
        },
      );
      res.status(202).end();
    }),
  );

  // backups
  api.post(
    '/backups',
    h((req, res, c) => {
      const b = createBackup(c, bodyOf(req, 'backup'));
      res.status(202).json({ backup: brief(baseUrl(req), 'backups', b) });
    }),
  );
  const dependents = (b: CinderBackup) => Object.values(db.backups).some((x) => x.parent_id === b.id);
  listRoutes(
    'backups',
    () => Object.values(db.backups),
    { brief: ['name', 'status', 'volume_id'], detail: ['name', 'status', 'volume_id'] },
    {
      brief: (b, req) => brief(baseUrl(req), 'backups', b),
      detail: (b, req) => backupView(b, baseUrl(req), dependents(b)),
    },
  );
  api.get(
    '/backups/:id',
    h((req, res, c) => {
      const b = backup(c, String(req.params.id));
      res.json({ backup: backupView(b, baseUrl(req), dependents(b)) });
    }),
  );
  api.delete(
    '/backups/:id',
    h((req, res, c) => {
      const b = backup(c, String(req.params.id));
      if (!['available', 'error'].includes(b.status))
        throw badRequest(`Invalid backup: Backup status must be available or error`);
      if (dependents(b)) throw badRequest('Invalid backup: Incremental backups exist for this backup.');
      b.status = 'deleting';
      save();
      later(
        async () => {
          if (stuck(b.id, b.name)) return;
          try {
            deleteBackupObjects(objectStore(), location(b));
          } catch {
            // No object store: nothing to remove here.
          }
          delete db.backups[b.id];
          save();
        },
        (err) => {
          b.status = 'error_deleting';
          b.fail_reason = err.message;
        },
      );
      res.status(202).end();
    }),
  );
  api.post(
    '/backups/:id/restore',
    h((req, res, c) => {
      const b = backup(c, String(req.params.id));
      const args = bodyOf(req, 'restore');
      if (b.status !== 'available') throw badRequest(`Invalid backup: Backup status must be available`);
      let v: CinderVolume;
      if (args.volume_id) {
        v = volume(c, String(args.volume_id));
        if (v.status !== 'available')
          throw badRequest(`Invalid volume: Volume to be restored to must be available`);
        if (v.size < b.size)
          throw badRequest(`Invalid volume: volume size ${v.size} is smaller than backup size ${b.size}.`);
        v.status = 'restoring-backup';
      } else {
        checkQuota(c.projectId, { volumes: 1, gigabytes: b.size });
        v = newVolume(
          c,
          { size: b.size, name: (args.name as string) ?? `restore_backup_${b.id}`, description: null },
          volumeType(undefined),
        );
        v.status = 'restoring-backup';
      }
      b.status = 'restoring';
      save();
      later(
        async () => {
          if (!existsSync(volPath(v.id))) await allocate(v);
          await restoreBackup(objectStore(), location(b), volPath(v.id), v.size * GiB);
          b.status = 'available';
          setStatus(v, 'available');
        },
        (err) => {
          b.status = 'available';
          failVolume(v, err, 'error_restoring');
        },
      );
      res.status(202).json({ restore: { backup_id: b.id, volume_id: v.id, volume_name: v.name } });
    }),
  );
  api.get(
    '/backups/:id/export_record',
    h((req, res, c) => {
      requireAdmin(c, 'backup:export-import');
      const b = backup(c, String(req.params.id));
      if (b.status !== 'available')
        throw badRequest(`Invalid backup: Backup status must be available and not ${b.status}.`);
      const record = {
        id: b.id,
        display_name: b.name,
        display_description: b.description,
        volume_id: b.volume_id,
        snapshot_id: b.snapshot_id,
        size: b.size,
        object_count: b.object_count,
        container: b.container,
        service_metadata: b.service_metadata,
        service: BACKUP_SERVICE,
        availability_zone: b.availability_zone,
        parent_id: b.parent_id,
        is_incremental: b.is_incremental,
        project_id: b.project_id,
        user_id: b.user_id,
        status: 'available',
        created_at: b.created_at,
        data_timestamp: b.data_timestamp,
        // Simulator extension: where the objects are (see docs/cloud-api-notes/cinder.md).
        account: b.account,
        source_region: site.region,
      };
      res.json({ 'backup-record': { backup_service: BACKUP_SERVICE, backup_url: encodeRecord(record) } });
    }),
  );
  api.post(
    '/backups/import_record',
    h((req, res, c) => {
      requireAdmin(c, 'backup:export-import');
      const rec = bodyOf(req, 'backup-record');
      if (rec.backup_service !== BACKUP_SERVICE)
        throw badRequest(
          `Invalid backup: Import record failed, cannot find backup service to perform the import. Request service ${String(rec.backup_service)}.`,
        );
      let r: Record<string, unknown>;
      try {
        r = decodeRecord(String(rec.backup_url ?? ''));
      } catch {
        throw badRequest("Invalid input received: Can't parse backup record.");
      }
      const id = typeof r.id === 'string' ? r.id : randomUUID();
      if (db.backups[id]) throw badRequest('Invalid backup: Backup already exists in database.');
      const b: CinderBackup = {
        id,
        name: (r.display_name as string) ?? null,
        description: (r.display_description as string) ?? null,
        volume_id: String(r.volume_id ?? ''),
        snapshot_id: (r.snapshot_id as string) ?? null,
        status: 'creating',
        size: Number(r.size ?? 0),
        object_count: Number(r.object_count ?? 0),
        container: String(r.container ?? DEFAULT_BACKUP_CONTAINER),
        account: typeof r.account === 'string' ? r.account : `AUTH_${c.projectId}`,
        service_metadata: String(r.service_metadata ?? ''),
        availability_zone: String(r.availability_zone ?? 'nova'),
        project_id: c.projectId,
        user_id: c.userId,
        is_incremental: r.is_incremental === true,
        parent_id: (r.parent_id as string) ?? null,
        fail_reason: null,
        metadata: {},
        created_at: now(),
        updated_at: null,
        data_timestamp: String(r.data_timestamp ?? now()),
      };
      db.backups[id] = b;
      save();
      later(
        async () => {
          const meta = await readMetadata(objectStore(), location(b));
          if (!meta)
            throw new Error(
              `backup objects ${b.container}/${b.service_metadata}_metadata are not in this site's Swift`,
            );
          setStatus(b, 'available');
        },
        (err) => {
          b.status = 'error';
          b.fail_reason = err.message;
          save();
        },
      );
      res.status(201).json({ backup: brief(baseUrl(req), 'backups', b) });
    }),
  );

  // quotas
  api.get(
    '/os-quota-sets/:target',
    h((req, res, c) => {
      const target = String(req.params.target);
      if (target !== c.projectId && !c.isAdmin)
        throw forbidden("Policy doesn't allow volume_extension:quotas:show to be performed.");
      const lim = limits(target);
      const used = usage(target);
      const withUsage = isTrue(req.query.usage);
      const set: Record<string, unknown> = { id: target };
      for (const k of QUOTA_KEYS)
        set[k] = withUsage ? { limit: lim[k], in_use: used[k], reserved: 0, allocated: 0 } : lim[k];
      res.json({ quota_set: set });
    }),
  );
  api.put(
    '/os-quota-sets/:target',
    h((req, res, c) => {
      requireAdmin(c, 'volume_extension:quotas:update');
      const target = String(req.params.target);
      const b = bodyOf(req, 'quota_set');
      if (!db.quotas[target]) db.quotas[target] = {};
      const q = db.quotas[target];
      for (const k of QUOTA_KEYS) {
        if (b[k] === undefined) continue;
        const n = Number(b[k]);
        if (!Number.isInteger(n) || n < -1)
          throw badRequest(`Invalid input received: Quota ${k} must be an integer >= -1.`);
        q[k] = n;
      }
      save();
      res.json({ quota_set: limits(target) });
    }),
  );

  // availability zones (cinderclient/OSC `availability zone list --volume`)
  api.get(
    '/os-availability-zone',
    h((_req, res) =>
      res.json({ availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] }),
    ),
  );

  // user messages (3.3)
  api.get(
    '/messages',
    h((req, res, c) => {
      const q = req.query as Record<string, string | undefined>;
      const list = db.messages.filter(
        (m) => owns(c, m.project_id) && (!q.resource_uuid || m.resource_uuid === q.resource_uuid),
      );
      res.json({ messages: list.map(({ project_id: _p, ...m }) => m) });
    }),
  );

  // ---- the in-process contract ----------------------------------------------------------------

  function attach(volumeId: string, serverId: string, device: string): SimVolumeAttachment {
    const v = db.volumes[volumeId];
    if (!v) throw new Error(`volume ${volumeId} not found`);
    if (v.status !== 'available') throw new Error(`volume ${volumeId} is ${v.status}, not available`);
    const a = { id: randomUUID(), server_id: serverId, device, host_name: null, attached_at: now() };
    v.attachments.push(a);
    v.status = 'in-use';
    v.updated_at = now();
    save();
    return a;
  }

  function detach(volumeId: string, serverId: string): void {
    const v = db.volumes[volumeId];
    if (!v) return;
    v.attachments = v.attachments.filter((a) => a.server_id !== serverId);
    if (!v.attachments.length && v.status === 'in-use') v.status = 'available';
    v.updated_at = now();
    save();
  }

  return {
    type: 'volumev3',
    aliases: ['block-storage'],
    name: 'cinderv3',
    router,
    catalogUrl: (base: string) => `${base}/v3/%(project_id)s`,
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
    getVolume(id) {
      const v = db.volumes[id];
      return (
        v && {
          id: v.id,
          status: v.status,
          size: v.size,
          project_id: v.project_id,
          attachments: v.attachments,
        }
      );
    },
    attach,
    detach,
    volumeDataPath: (id: string) => volPath(id),
  };
}

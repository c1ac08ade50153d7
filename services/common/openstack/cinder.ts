/**
 * Cinder Block Storage API v3 client: volumes (and their actions: extend,
 * reset status, force detach, upload to image), snapshots, backups with
 * restore and export/import of backup records, volume types, manage
 * existing, quota usage and user messages. Every call sends
 * `OpenStack-API-Version: volume <microversion>`. Waits fail with the
 * volume's user message (why it went to error) in the text.
 * See docs/cloud-api-notes/cinder.md for each call.
 */
import type { EndpointInterface } from './catalog.js';
import { OpenStackHttpError } from './errors.js';
import type { KeystoneSession, RequestOptions } from './session.js';
import { type WaitOptions, waitFor } from './wait.js';

export const DEFAULT_VOLUME_MICROVERSION = '3.60';

export interface VolumeAttachment {
  id: string;
  attachment_id: string;
  volume_id: string;
  server_id: string;
  host_name: string | null;
  device: string;
  attached_at?: string;
}

export interface Volume {
  id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  availability_zone: string;
  bootable: string;
  encrypted: boolean;
  multiattach: boolean;
  metadata: Record<string, string>;
  attachments: VolumeAttachment[];
  snapshot_id: string | null;
  source_volid: string | null;
  volume_type: string;
  replication_status: string | null;
  user_id: string;
  'os-vol-tenant-attr:tenant_id'?: string;
  volume_image_metadata?: Record<string, string>;
  created_at: string;
  updated_at: string | null;
  [field: string]: unknown;
}

export interface VolumeCreate {
  size?: number;
  name?: string;
  description?: string;
  volume_type?: string;
  availability_zone?: string;
  metadata?: Record<string, string>;
  snapshot_id?: string;
  source_volid?: string;
  imageRef?: string;
  /** Microversion 3.47+. */
  backup_id?: string;
}

export interface Snapshot {
  id: string;
  name: string | null;
  description: string | null;
  volume_id: string;
  size: number;
  status: string;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string | null;
  [field: string]: unknown;
}

export interface Backup {
  id: string;
  name: string | null;
  description: string | null;
  volume_id: string;
  snapshot_id: string | null;
  status: string;
  size: number;
  object_count: number;
  container: string | null;
  availability_zone: string | null;
  fail_reason: string | null;
  has_dependent_backups: boolean;
  is_incremental: boolean;
  created_at: string;
  updated_at: string | null;
  data_timestamp: string;
  [field: string]: unknown;
}

export interface BackupCreate {
  volume_id: string;
  snapshot_id?: string;
  container?: string;
  name?: string;
  description?: string;
  incremental?: boolean;
  force?: boolean;
  metadata?: Record<string, string>;
}

export interface BackupRecord {
  backup_service: string;
  backup_url: string;
}

export interface VolumeType {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  extra_specs: Record<string, string>;
}

export interface QuotaUsage {
  limit: number;
  in_use: number;
  reserved: number;
  allocated?: number;
}

export interface UserMessage {
  id: string;
  resource_type: string;
  resource_uuid: string;
  user_message: string;
  event_id: string;
  message_level: string;
  created_at: string;
}

export interface ManageableVolume {
  reference: Record<string, string>;
  size: number;
  safe_to_manage: boolean;
  reason_not_safe?: string | null;
  cinder_id?: string | null;
  extra_info?: string | null;
}

export interface CinderClientOptions {
  region?: string;
  interface?: EndpointInterface;
  /** `3.x` sent in OpenStack-API-Version. Default 3.60. */
  microversion?: string;
}

type WaitTuning<T> = Partial<
  Pick<WaitOptions<T>, 'timeoutMs' | 'intervalMs' | 'maxIntervalMs' | 'signal' | 'onProgress'>
>;

const VOLUME_ERRORS = ['error', 'error_restoring', 'error_extending', 'error_managing', 'error_deleting'];

export class CinderClient {
  readonly microversion: string;

  constructor(
    readonly session: KeystoneSession,
    readonly opts: CinderClientOptions = {},
  ) {
    this.microversion = opts.microversion ?? DEFAULT_VOLUME_MICROVERSION;
  }

  #call<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    return this.session.requestJson<T>(
      method,
      { service: 'volumev3', path, region: this.opts.region, interface: this.opts.interface },
      { ...o, headers: { 'OpenStack-API-Version': `volume ${this.microversion}`, ...(o.headers ?? {}) } },
    );
  }

  async #find<T>(get: () => Promise<T>): Promise<T | undefined> {
    try {
      return await get();
    } catch (err) {
      if (err instanceof OpenStackHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  #action(volumeId: string, body: Record<string, unknown>) {
    return this.#call<unknown>('POST', `volumes/${encodeURIComponent(volumeId)}/action`, { json: body });
  }

  // ---- volumes ----------------------------------------------------------------------------------

  /** POST /volumes (202): empty, or from snapshot_id / source_volid / imageRef / backup_id. */
  async createVolume(req: VolumeCreate): Promise<Volume> {
    return (await this.#call<{ volume: Volume }>('POST', 'volumes', { json: { volume: req } })).volume;
  }

  async getVolume(id: string): Promise<Volume> {
    return (await this.#call<{ volume: Volume }>('GET', `volumes/${encodeURIComponent(id)}`)).volume;
  }

  findVolume(id: string): Promise<Volume | undefined> {
    return this.#find(() => this.getVolume(id));
  }

  /** GET /volumes/detail, following volumes_links (filters: name, status, all_tenants, ...). */
  listVolumes(filters: Record<string, string | number | boolean | undefined> = {}): Promise<Volume[]> {
    return this.#pages<Volume>('volumes/detail', 'volumes', filters);
  }

  async updateVolume(
    id: string,
    fields: { name?: string; description?: string; metadata?: Record<string, string> },
  ): Promise<Volume> {
    return (
      await this.#call<{ volume: Volume }>('PUT', `volumes/${encodeURIComponent(id)}`, {
        json: { volume: fields },
      })
    ).volume;
  }

  async deleteVolume(id: string, opts: { cascade?: boolean } = {}): Promise<void> {
    await this.#call('DELETE', `volumes/${encodeURIComponent(id)}`, {
      query: opts.cascade ? { cascade: true } : undefined,
    });
  }

  async extendVolume(id: string, newSize: number): Promise<void> {
    await this.#action(id, { 'os-extend': { new_size: newSize } });
  }

  /** Admin: os-reset_status. */
  async resetVolumeStatus(id: string, status: string, attachStatus?: 'attached' | 'detached'): Promise<void> {
    await this.#action(id, {
      'os-reset_status': { status, ...(attachStatus ? { attach_status: attachStatus } : {}) },
    });
  }

  /** Admin: os-unmanage — Cinder forgets the volume, the backend keeps it (the undo of manage). */
  async unmanageVolume(id: string): Promise<void> {
    await this.#action(id, { 'os-unmanage': {} });
  }

  /** Admin: os-force_detach (one attachment, or all when none is given). */
  async forceDetach(id: string, attachmentId?: string): Promise<void> {
    await this.#action(id, {
      'os-force_detach': { connector: null, ...(attachmentId ? { attachment_id: attachmentId } : {}) },
    });
  }

  /** os-volume_upload_image: a new Glance image from the volume's bytes; returns its id at once (queued). */
  async uploadToImage(
    id: string,
    req: {
      image_name: string;
      disk_format?: string;
      container_format?: string;
      force?: boolean;
      visibility?: string;
    },
  ): Promise<{ image_id: string; status: string }> {
    const r = (await this.#action(id, {
      'os-volume_upload_image': { disk_format: 'raw', container_format: 'bare', ...req },
    })) as { 'os-volume_upload_image': { image_id: string; status: string } };
    return r['os-volume_upload_image'];
  }

  /** Admin: POST /os-volume-manage, adopting a backend volume (e.g. a replica) as a Cinder volume. */
  async manageVolume(req: {
    host: string;
    ref: Record<string, string>;
    name?: string;
    description?: string;
    volume_type?: string;
    availability_zone?: string;
    metadata?: Record<string, string>;
    bootable?: boolean;
  }): Promise<Volume> {
    return (await this.#call<{ volume: Volume }>('POST', 'os-volume-manage', { json: { volume: req } }))
      .volume;
  }

  /** Admin: GET /manageable_volumes/detail (microversion 3.8+). */
  async listManageableVolumes(host: string): Promise<ManageableVolume[]> {
    return (
      await this.#call<{ 'manageable-volumes': ManageableVolume[] }>('GET', 'manageable_volumes/detail', {
        query: { host },
      })
    )['manageable-volumes'];
  }

  /** Waits for a volume status (default available); error states fail with Cinder's user message. */
  waitForVolume(
    id: string,
    ready: string[] = ['available'],
    tuning: WaitTuning<Volume> = {},
  ): Promise<Volume> {
    return waitFor<Volume & { _fault?: string }>({
      resource: `volume ${id}`,
      poll: async () => {
        const v: Volume & { _fault?: string } = await this.getVolume(id);
        if (VOLUME_ERRORS.includes(v.status) && !ready.includes(v.status)) v._fault = await this.#faultOf(id);
        return v;
      },
      status: (v) => v.status,
      ready,
      failed: VOLUME_ERRORS.filter((s) => !ready.includes(s)),
      fault: (v) => v._fault,
      ...tuning,
    });
  }

  /** Waits until GET answers 404. */
  async waitForVolumeDeleted(id: string, tuning: WaitTuning<{ status: string }> = {}): Promise<void> {
    await this.#waitGone(`volume ${id}`, () => this.findVolume(id), tuning);
  }

  // ---- snapshots --------------------------------------------------------------------------------

  async createSnapshot(req: {
    volume_id: string;
    name?: string;
    description?: string;
    force?: boolean;
    metadata?: Record<string, string>;
  }): Promise<Snapshot> {
    return (await this.#call<{ snapshot: Snapshot }>('POST', 'snapshots', { json: { snapshot: req } }))
      .snapshot;
  }

  async getSnapshot(id: string): Promise<Snapshot> {
    return (await this.#call<{ snapshot: Snapshot }>('GET', `snapshots/${encodeURIComponent(id)}`)).snapshot;
  }

  findSnapshot(id: string): Promise<Snapshot | undefined> {
    return this.#find(() => this.getSnapshot(id));
  }

  listSnapshots(filters: Record<string, string | number | boolean | undefined> = {}): Promise<Snapshot[]> {
    return this.#pages<Snapshot>('snapshots/detail', 'snapshots', filters);
  }

  async deleteSnapshot(id: string): Promise<void> {
    await this.#call('DELETE', `snapshots/${encodeURIComponent(id)}`);
  }

  waitForSnapshot(id: string, tuning: WaitTuning<Snapshot> = {}): Promise<Snapshot> {
    return waitFor<Snapshot & { _fault?: string }>({
      resource: `snapshot ${id}`,
      poll: async () => {
        const s: Snapshot & { _fault?: string } = await this.getSnapshot(id);
        if (s.status.startsWith('error')) s._fault = await this.#faultOf(id);
        return s;
      },
      status: (s) => s.status,
      ready: ['available'],
      failed: ['error', 'error_deleting'],
      fault: (s) => s._fault,
      ...tuning,
    });
  }

  async waitForSnapshotDeleted(id: string, tuning: WaitTuning<{ status: string }> = {}): Promise<void> {
    await this.#waitGone(`snapshot ${id}`, () => this.findSnapshot(id), tuning);
  }

  // ---- backups ----------------------------------------------------------------------------------

  /** POST /backups (202): full or incremental, of a volume or one of its snapshots. Returns the backup as shown. */
  async createBackup(req: BackupCreate): Promise<Backup> {
    const r = await this.#call<{ backup: { id: string } }>('POST', 'backups', { json: { backup: req } });
    return this.getBackup(r.backup.id);
  }

  async getBackup(id: string): Promise<Backup> {
    return (await this.#call<{ backup: Backup }>('GET', `backups/${encodeURIComponent(id)}`)).backup;
  }

  findBackup(id: string): Promise<Backup | undefined> {
    return this.#find(() => this.getBackup(id));
  }

  listBackups(filters: Record<string, string | number | boolean | undefined> = {}): Promise<Backup[]> {
    return this.#pages<Backup>('backups/detail', 'backups', filters);
  }

  async deleteBackup(id: string): Promise<void> {
    await this.#call('DELETE', `backups/${encodeURIComponent(id)}`);
  }

  /** POST /backups/{id}/restore into an existing volume (volume_id) or a new one (name). */
  async restoreBackup(
    id: string,
    target: { volume_id?: string; name?: string } = {},
  ): Promise<{ backup_id: string; volume_id: string; volume_name: string | null }> {
    return (
      await this.#call<{ restore: { backup_id: string; volume_id: string; volume_name: string | null } }>(
        'POST',
        `backups/${encodeURIComponent(id)}/restore`,
        { json: { restore: target } },
      )
    ).restore;
  }

  /** Admin by default policy: GET /backups/{id}/export_record. */
  async exportBackupRecord(id: string): Promise<BackupRecord> {
    return (
      await this.#call<{ 'backup-record': BackupRecord }>(
        'GET',
        `backups/${encodeURIComponent(id)}/export_record`,
      )
    )['backup-record'];
  }

  /** Admin by default policy: POST /backups/import_record; the backup keeps its id. */
  async importBackupRecord(record: BackupRecord): Promise<{ id: string; name: string | null }> {
    return (
      await this.#call<{ backup: { id: string; name: string | null } }>('POST', 'backups/import_record', {
        json: { 'backup-record': record },
      })
    ).backup;
  }

  waitForBackup(id: string, tuning: WaitTuning<Backup> = {}): Promise<Backup> {
    return waitFor<Backup>({
      resource: `backup ${id}`,
      poll: () => this.getBackup(id),
      status: (b) => b.status,
      ready: ['available'],
      failed: ['error', 'error_deleting'],
      fault: (b) => b.fail_reason ?? undefined,
      ...tuning,
    });
  }

  async waitForBackupDeleted(id: string, tuning: WaitTuning<{ status: string }> = {}): Promise<void> {
    await this.#waitGone(`backup ${id}`, () => this.findBackup(id), tuning);
  }

  // ---- types, quotas, messages ------------------------------------------------------------------

  async listVolumeTypes(): Promise<VolumeType[]> {
    return (await this.#call<{ volume_types: VolumeType[] }>('GET', 'types')).volume_types;
  }

  async getVolumeType(idOrName: string): Promise<VolumeType> {
    return (await this.#call<{ volume_type: VolumeType }>('GET', `types/${encodeURIComponent(idOrName)}`))
      .volume_type;
  }

  /** GET /os-quota-sets/{project}?usage=true: limit and in_use per resource (volumes, gigabytes, ...). */
  async getQuotaUsage(projectId: string): Promise<Record<string, QuotaUsage>> {
    const r = await this.#call<{ quota_set: Record<string, QuotaUsage | string> }>(
      'GET',
      `os-quota-sets/${encodeURIComponent(projectId)}`,
      { query: { usage: true } },
    );
    return Object.fromEntries(
      Object.entries(r.quota_set).filter((e): e is [string, QuotaUsage] => typeof e[1] === 'object'),
    );
  }

  /** Admin: PUT /os-quota-sets/{project}. */
  async updateQuota(projectId: string, limits: Record<string, number>): Promise<Record<string, number>> {
    return (
      await this.#call<{ quota_set: Record<string, number> }>(
        'PUT',
        `os-quota-sets/${encodeURIComponent(projectId)}`,
        {
          json: { quota_set: limits },
        },
      )
    ).quota_set;
  }

  /** GET /messages (3.3+): why resources went to error. */
  async listMessages(resourceId?: string): Promise<UserMessage[]> {
    return (
      await this.#call<{ messages: UserMessage[] }>('GET', 'messages', {
        query: resourceId ? { resource_uuid: resourceId } : undefined,
      })
    ).messages;
  }

  // ---- internals --------------------------------------------------------------------------------

  async #faultOf(id: string): Promise<string | undefined> {
    try {
      const msgs = await this.listMessages(id);
      return msgs.length ? msgs[msgs.length - 1].user_message : undefined;
    } catch {
      return undefined;
    }
  }

  async #pages<T>(
    path: string,
    key: string,
    filters: Record<string, string | number | boolean | undefined>,
  ): Promise<T[]> {
    const out: T[] = [];
    let query = filters;
    for (;;) {
      const page = await this.#call<Record<string, unknown>>('GET', path, { query });
      out.push(...((page[key] as T[]) ?? []));
      const next = (page[`${key}_links`] as Array<{ rel: string; href: string }> | undefined)?.find(
        (l) => l.rel === 'next',
      );
      if (!next) return out;
      query = Object.fromEntries(new URL(next.href).searchParams.entries());
    }
  }

  async #waitGone(
    resource: string,
    find: () => Promise<{ status: string } | undefined>,
    tuning: WaitTuning<{ status: string }>,
  ): Promise<void> {
    await waitFor<{ status: string }>({
      resource,
      poll: async () => (await find()) ?? { status: 'deleted' },
      status: (s) => s.status,
      ready: ['deleted'],
      failed: ['error_deleting'],
      ...tuning,
    });
  }
}

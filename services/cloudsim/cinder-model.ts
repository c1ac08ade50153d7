/**
 * The records of the simulated Cinder and how the v3 API shows them.
 * Field names are Cinder's (volume, snapshot, backup, volume type, quota set).
 */
import type { SimVolumeAttachment } from './contracts.js';

export interface CinderVolume {
  id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  project_id: string;
  user_id: string;
  volume_type: string;
  availability_zone: string;
  bootable: boolean;
  metadata: Record<string, string>;
  attachments: Array<SimVolumeAttachment & { attached_at: string }>;
  snapshot_id: string | null;
  source_volid: string | null;
  backup_id: string | null;
  volume_image_metadata?: Record<string, string>;
  replication_status: 'enabled' | 'disabled';
  created_at: string;
  updated_at: string | null;
  /** The state to go back to when a backing-up / uploading ends. */
  previous_status?: string;
}

export interface CinderSnapshot {
  id: string;
  name: string | null;
  description: string | null;
  volume_id: string;
  size: number;
  status: string;
  project_id: string;
  user_id: string;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string | null;
}

export interface CinderBackup {
  id: string;
  name: string | null;
  description: string | null;
  volume_id: string;
  snapshot_id: string | null;
  status: string;
  size: number;
  object_count: number;
  container: string;
  /** Swift account holding the objects (per_user: the owner's AUTH_<project>). */
  account: string;
  /** The driver's object name prefix (cinder's `service_metadata`). */
  service_metadata: string;
  availability_zone: string;
  project_id: string;
  user_id: string;
  is_incremental: boolean;
  parent_id: string | null;
  fail_reason: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string | null;
  data_timestamp: string;
}

export interface VolumeType {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  extra_specs: Record<string, string>;
}

/** A user message (GET /v3/{project_id}/messages, microversion 3.3): why something went to error. */
export interface UserMessage {
  id: string;
  project_id: string;
  resource_type: 'VOLUME' | 'VOLUME_SNAPSHOT' | 'VOLUME_BACKUP';
  resource_uuid: string;
  user_message: string;
  event_id: string;
  message_level: 'ERROR';
  created_at: string;
}

export const QUOTA_KEYS = [
  'volumes',
  'gigabytes',
  'snapshots',
  'backups',
  'backup_gigabytes',
  'per_volume_gigabytes',
  'groups',
] as const;
export type QuotaKey = (typeof QUOTA_KEYS)[number];
/** cinder.conf's quota_* defaults. */
export const DEFAULT_QUOTAS: Record<QuotaKey, number> = {
  volumes: 10,
  gigabytes: 1000,
  snapshots: 10,
  backups: 10,
  backup_gigabytes: 1000,
  per_volume_gigabytes: -1,
  groups: 10,
};

/** Extra specs a non-admin sees (cinder's "user visible" extra specs). */
const USER_VISIBLE_SPECS = new Set(['multiattach', 'RESKEY:availability_zones', 'replication_enabled']);

export const HOST = 'cinder@lvmdriver-1#lvmdriver-1';

export function volumeView(v: CinderVolume, base: string, admin: boolean): Record<string, unknown> {
  return {
    id: v.id,
    name: v.name,
    description: v.description,
    size: v.size,
    status: v.status,
    availability_zone: v.availability_zone,
    bootable: String(v.bootable),
    encrypted: false,
    multiattach: false,
    metadata: v.metadata,
    attachments: v.attachments.map((a) => ({
      id: v.id,
      attachment_id: a.id,
      volume_id: v.id,
      server_id: a.server_id,
      host_name: a.host_name,
      device: a.device,
      attached_at: a.attached_at,
    })),
    snapshot_id: v.snapshot_id,
    source_volid: v.source_volid,
    backup_id: v.backup_id,
    volume_type: v.volume_type,
    replication_status: v.replication_status,
    consistencygroup_id: null,
    group_id: null,
    migration_status: null,
    user_id: v.user_id,
    'os-vol-tenant-attr:tenant_id': v.project_id,
    ...(admin ? { 'os-vol-host-attr:host': HOST, 'os-vol-mig-status-attr:migstat': null } : {}),
    ...(v.volume_image_metadata ? { volume_image_metadata: v.volume_image_metadata } : {}),
    created_at: v.created_at,
    updated_at: v.updated_at,
    links: links(base, 'volumes', v.id),
  };
}

export function snapshotView(s: CinderSnapshot, base: string): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    volume_id: s.volume_id,
    size: s.size,
    status: s.status,
    metadata: s.metadata,
    progress: s.status === 'available' ? '100%' : '0%',
    'os-extended-snapshot-attributes:project_id': s.project_id,
    'os-extended-snapshot-attributes:progress': s.status === 'available' ? '100%' : '0%',
    user_id: s.user_id,
    created_at: s.created_at,
    updated_at: s.updated_at,
    links: links(base, 'snapshots', s.id),
  };
}

export function backupView(b: CinderBackup, base: string, hasDependents: boolean): Record<string, unknown> {
  return {
    id: b.id,
    name: b.name,
    description: b.description,
    volume_id: b.volume_id,
    snapshot_id: b.snapshot_id,
    status: b.status,
    size: b.size,
    object_count: b.object_count,
    container: b.container,
    availability_zone: b.availability_zone,
    fail_reason: b.fail_reason,
    has_dependent_backups: hasDependents,
    is_incremental: b.is_incremental,
    metadata: b.metadata,
    'os-backup-project-attr:project_id': b.project_id,
    user_id: b.user_id,
    created_at: b.created_at,
    updated_at: b.updated_at,
    data_timestamp: b.data_timestamp,
    links: links(base, 'backups', b.id),
  };
}

export function typeView(t: VolumeType, admin: boolean): Record<string, unknown> {
  const specs = admin
    ? t.extra_specs
    : Object.fromEntries(Object.entries(t.extra_specs).filter(([k]) => USER_VISIBLE_SPECS.has(k)));
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    is_public: t.is_public,
    'os-volume-type-access:is_public': t.is_public,
    extra_specs: specs,
    qos_specs_id: null,
  };
}

function links(base: string, collection: string, id: string) {
  return [
    { rel: 'self', href: `${base}/${collection}/${id}` },
    { rel: 'bookmark', href: `${base.replace(/\/v3\//, '/')}/${collection}/${id}` },
  ];
}

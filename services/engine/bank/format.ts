/**
 * The checkpoint format in the bank: container metadata names and the shape
 * of `manifest.json`. Recovery from the bank alone (without Dragon's
 * database) depends on these names, so they are versioned and kept stable.
 */
import type { BankObject, BankReference } from '../plugin-api.js';

/**
 * The newest checkpoint format this Dragon writes and reads; bumped when a
 * reader of an older Dragon could no longer understand a checkpoint. Readers
 * accept every version up to it.
 * - 1: everything the checkpoint uses is in its own container.
 * - 2: the manifest's `references` name objects in other containers of the
 *   same account (a base image an earlier checkpoint saved); a version-1
 *   reader would miss them, so only a checkpoint that has references is
 *   written as 2.
 */
export const FORMAT_VERSION = 2;

/** The format of a checkpoint that holds everything itself (readable by every Dragon). */
export const FORMAT_VERSION_SELF_CONTAINED = 1;

export const MANIFEST_OBJECT = 'manifest.json';
export const TEMPLATE_OBJECT = 'template.yaml';

/**
 * Container metadata items (sent as `X-Container-Meta-<name>`; Swift gives
 * them back lower-cased, which is how `SwiftClient.containerInfo` keys them).
 */
export const META = {
  format: 'Dragon-Format',
  policyId: 'Dragon-Policy-Id',
  policyName: 'Dragon-Policy-Name',
  project: 'Dragon-Project',
  checkpointId: 'Dragon-Checkpoint-Id',
  createdAt: 'Dragon-Created-At',
  status: 'Dragon-Status',
  statusReason: 'Dragon-Status-Reason',
} as const;

/**
 * Object metadata item (`X-Object-Meta-Dragon-Sha256`) with the SHA-256 of
 * the object's bytes, so a protect taken over by another engine can rebuild
 * the manifest's object list from the container without re-reading.
 */
export const OBJECT_SHA256_META = 'Dragon-Sha256';

/**
 * `writing` until the manifest is in; `available` after; `error` when protect failed; `deleting` while
 * removed; `retained` when the checkpoint was deleted (no manifest any more, never offered for
 * recovery) but objects newer checkpoints reference are kept in its container.
 */
export type BankStatus = 'writing' | 'available' | 'error' | 'deleting' | 'retained';

/** Key of a metadata item as `containerInfo().metadata` holds it. */
export function metaKey(name: string): string {
  return name.toLowerCase();
}

/** What the protect execution passes in; the bank adds format, ids, objects and sizes. */
export interface ManifestInput {
  /** Default: when the checkpoint was created in the bank. */
  created_at?: string;
  policy: {
    id: string;
    name: string;
    description?: string;
    project_id: string;
    primary_site?: string;
    backup_site?: string;
    resources: unknown[];
    [key: string]: unknown;
  };
  graph: unknown[];
  steps: Record<string, unknown>;
  /**
   * The workload template: its object, its parameters with the primary's
   * values, and what recovery needs to know of each server and volume
   * (flavor size, boot source, volume size/type/zone) without the primary.
   */
  template?: {
    object: string;
    parameters: Record<string, unknown>;
    servers?: Record<string, unknown>;
    volumes?: Record<string, unknown>;
    /** Public keys of the servers' key pairs, by name. */
    key_pairs?: Record<string, string>;
  };
  [key: string]: unknown;
}

export interface Manifest extends ManifestInput {
  format_version: number;
  checkpoint_id: string;
  created_at: string;
  objects: BankObject[];
  /** Bytes of the checkpoint's own objects (referenced ones are counted where they are). */
  total_size: number;
  /** Format 2: objects of other containers this checkpoint uses, sorted by container and object. */
  references?: BankReference[];
}

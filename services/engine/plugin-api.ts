import type { Readable } from 'node:stream';
import type { CinderClient } from '../common/openstack/cinder.js';
import type { GlanceClient } from '../common/openstack/glance.js';
import type { HeatClient } from '../common/openstack/heat.js';
import type { NeutronClient } from '../common/openstack/neutron.js';
import type { NovaClient } from '../common/openstack/nova.js';
import type { SwiftClient } from '../common/openstack/swift.js';

/**
 * The plugin API: the one module an action plugin imports from Dragon.
 * A plugin is a folder with `manifest.json` and an entry module whose default
 * export implements some of the hooks below. Plugins never read the
 * configuration or the database; everything reaches them through the context.
 * (The protection issue adds site clients and the bank to the context.)
 */

export interface PluginManifest {
  /** Action name users put in a policy, e.g. `volume-snapshot`. */
  name: string;
  /** Heat resource type acted on, e.g. `OS::Cinder::Volume`. */
  resource_type: string;
  version: string;
  description: string;
  /** JSON schema of the per-resource options. */
  options_schema: Record<string, unknown>;
  /** Entry module relative to the plugin folder, e.g. `index.js`. */
  entry: string;
  /**
   * Optional: what the resource must be for this action to work, checked by
   * the API when the resource is added — without loading the plugin's code,
   * from what the API can read with the caller's token at the policy's
   * primary site (see `ResourceFacts`). When the cloud cannot say (the
   * resource or its type is not readable, the site does not answer) the
   * resource is added, and the plugin's protect must still refuse it.
   */
  requires?: ResourceRequirement;
}

/** A JSON schema over the resource's facts, and the sentence that explains a refusal. */
export interface ResourceRequirement {
  /** JSON schema that `ResourceFacts` of an acceptable resource satisfy. */
  schema: Record<string, unknown>;
  /** Why a resource that does not satisfy it is refused, e.g. "its volume type must be replicated". */
  message: string;
}

/**
 * What the API reads about a resource to check a `requires`: for
 * `OS::Cinder::Volume` the volume and its volume type (`extra_specs` as a
 * project member sees them), for `OS::Nova::Server` the server.
 */
export interface ResourceFacts {
  volume?: Record<string, unknown>;
  volume_type?: Record<string, unknown>;
  server?: Record<string, unknown>;
}

export interface PluginLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface StepContext {
  executionId: string;
  /** Unique within the execution. */
  stepName: string;
  resource: { id: string | null; type: string | null };
  /** The resource's action options from the policy (validated against the schema). */
  options: Record<string, unknown>;
  /** Parameters the execution gave this step. */
  params: Record<string, unknown>;
  /** Results of the steps this one depends on, by step name. */
  dependencies: Record<string, unknown>;
  /** 1 on the first try; higher on retries and after a takeover. */
  attempt: number;
  /**
   * Report progress in percent (0-100), optionally with detail. Bytes as
   * `{ bytes_done, bytes_total }` (numbers; `bytes`/`total_bytes` are read
   * too): the engine sums them over the steps into the execution's
   * `progress_detail`. Calls are cheap; the engine throttles the writes.
   */
  progress(percent: number, detail?: Record<string, unknown>): void;
  /**
   * Call right after the point-in-time capture of the resource is done —
   * Nova createImage returned, the Cinder snapshot exists, or at once when
   * the data cannot change (a base image) — before the long data copy.
   * With `consistency: paused` the engine unpauses the policy's servers as
   * soon as every resource step has called it (or ended), so the pause
   * lasts only for the captures. Idempotent; optional in the context
   * (call it as `ctx.pointInTime?.()`); a step that never calls it holds
   * the pause until it ends.
   */
  pointInTime?(): void;
  log: PluginLogger;
  /** Aborted on cancel, on engine shutdown, or when the claim was lost. */
  signal: AbortSignal;
}

/** The OpenStack clients of one site, acting for the tenant (trust-scoped). */
export interface SiteClients {
  /** The site's name in Dragon (`[site:NAME]` or a registered site). */
  name: string;
  region: string;
  projectId: string;
  nova: NovaClient;
  cinder: CinderClient;
  glance: GlanceClient;
  neutron: NeutronClient;
  heat: HeatClient;
  swift: SwiftClient;
}

/** What was written into the bank: every object is listed in the manifest with its size and SHA-256. */
export interface BankObject {
  name: string;
  size: number;
  sha256: string;
}

/**
 * An object just written: as the manifest lists it, plus the MD5 of the bytes sent (the Swift
 * client computes it anyway, to check Swift's ETag), so a plugin that must compare the bytes with
 * an MD5 checksum (Glance's) needs no hash of its own. Not kept in the manifest.
 */
export interface WrittenObject extends BankObject {
  md5: string;
}

/**
 * An object of ANOTHER checkpoint container of the same bank account that a
 * checkpoint uses instead of a copy of its own (manifest `references`). It
 * always names the container that holds the bytes (never a reference of a
 * reference), with the size and SHA-256 readers verify it against.
 */
export interface BankReference {
  container: string;
  object: string;
  size: number;
  sha256: string;
  /** The checkpoint that wrote the bytes. */
  checkpoint_id: string;
}

/** A copy an earlier checkpoint saved, found by `BankWriter.findEarlier`: where it is, and what that step saved. */
export interface EarlierObject extends BankReference {
  /** What the earlier checkpoint's step (the one `match` accepted) returned from its protect. */
  saved: Record<string, unknown>;
}

/** Decides whether a step of an earlier checkpoint saved the same thing (e.g. same image id and checksum). */
export type EarlierMatch = (
  saved: Record<string, unknown>,
  step: { name: string; action: string },
) => boolean;

/** The checkpoint's Swift container at the backup site, as a plugin sees it while protecting. */
export interface BankWriter {
  readonly container: string;
  /** Streams data into the bank (large data becomes a Static Large Object); size, SHA-256 and MD5 are computed on the way. */
  put(
    name: string,
    data: Readable | Buffer | string,
    opts?: { size?: number; contentType?: string },
  ): Promise<WrittenObject>;
  putJson(name: string, value: unknown): Promise<WrittenObject>;
  /**
   * The newest available earlier checkpoint of the project in this bank whose step `match` accepts
   * and that holds `object` (by the same name), present in the bank with the recorded size; undefined
   * when there is none. The engine supplies it (plugins never read the database); optional so that a
   * bank without a history (tests, a bank of its own) simply never reuses.
   */
  findEarlier?(object: string, match: EarlierMatch): Promise<EarlierObject | undefined>;
  /**
   * Makes this checkpoint use `ref` instead of a copy: listed in the manifest's `references`, kept by
   * deletion of the older checkpoint while this one lives. Rejects (naming `<container>/<object>`) when
   * the object is no longer there with that size; the plugin then copies instead.
   */
  reference?(ref: BankReference): Promise<void>;
}

/** The checkpoint as a plugin sees it while recovering, verifying or deleting. */
export interface BankReader {
  readonly container: string;
  /**
   * The object's bytes; the stream errors if they do not hash to the manifest's SHA-256. An object
   * the checkpoint does not hold itself is read from the container its manifest `references` name
   * (`opts.container` picks it explicitly; only containers the manifest references are ever read).
   */
  get(name: string, opts?: { container?: string }): Promise<Readable>;
  getJson<T = unknown>(name: string, opts?: { container?: string }): Promise<T>;
  /** The manifest's record of an object (its own, else a referenced one). */
  stat(name: string, opts?: { container?: string }): BankObject | undefined;
  /** The checkpoint's own objects. */
  list(prefix?: string): BankObject[];
}

/** A protect step: at the primary, produce data into the bank and return what recovery needs. */
export interface ProtectContext extends StepContext {
  primary: SiteClients;
  backup: SiteClients;
  bank: BankWriter;
  checkpointId: string;
}

/** A recover step: at the backup site, make the saved data usable; return the values the template needs. */
export interface RecoverContext extends StepContext {
  backup: SiteClients;
  bank: BankReader;
  checkpointId: string;
  /** What this resource's protect step returned. */
  saved: Record<string, unknown>;
  /**
   * Where the restored resource should land at the target site, from the
   * recovery's mapping: `volume_type`, `availability_zone` (volumes). A
   * plugin falls back to what it saved when a key is absent (optional so
   * that protect→recover tests of a plugin can leave it out).
   */
  target?: Record<string, string>;
}

/**
 * What a recover step returns, besides the values the template needs
 * (`image` for a server, `volume_id` for a volume): `created` lists what it
 * made at the target site, so a failed recovery can be rolled back and a
 * drill torn down by the engine; `data_sha256` is the SHA-256 of the bytes
 * written into a restored volume, which a drill compares with the volume.
 */
export interface RecoverResult {
  image?: string;
  volume_id?: string;
  created?: CreatedResource[];
  data_sha256?: string;
  [key: string]: unknown;
}

export interface CreatedResource {
  type: 'OS::Glance::Image' | 'OS::Cinder::Volume' | 'OS::Nova::KeyPair';
  id: string;
  /** How to undo it: `delete` (default), or `unmanage` for a volume that belongs to the storage (a replica). */
  undo?: 'delete' | 'unmanage';
}

/** A plugin's answer to a dry run: what its recover would do, and anything that would stop it. */
export interface RecoverPlan {
  /** One line for people, e.g. "Glance image from bank object images/x.img (12 MiB)". */
  summary: string;
  /** Bytes it would read from the bank. */
  bytes?: number;
  problems?: Array<{ kind: string; subject?: string; message: string }>;
  warnings?: string[];
}

/** Delete (after a checkpoint is removed) and verify steps read the bank and may touch both sites. */
export interface CheckpointContext extends StepContext {
  primary?: SiteClients;
  backup: SiteClients;
  bank: BankReader;
  checkpointId: string;
  saved: Record<string, unknown>;
}

export type Hook = (ctx: StepContext) => Promise<unknown>;

export interface ActionPlugin {
  protect?: (ctx: ProtectContext) => Promise<unknown>;
  recover?: (ctx: RecoverContext) => Promise<unknown>;
  /** Dry run of recover: reads the bank and the target site, creates nothing. */
  plan?: (ctx: RecoverContext) => Promise<RecoverPlan>;
  delete?: (ctx: CheckpointContext) => Promise<unknown>;
  verify?: (ctx: CheckpointContext) => Promise<unknown>;
}

/** Throw this for failures worth retrying (timeouts, 503s): the engine retries with backoff. */
export class TransientError extends Error {
  override name = 'TransientError';
  readonly transient = true;
}

export function isTransient(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true;
}

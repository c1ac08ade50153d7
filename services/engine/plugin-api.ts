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
  /** Report progress in percent (0-100), optionally with detail such as bytes done. */
  progress(percent: number, detail?: Record<string, unknown>): void;
  log: PluginLogger;
  /** Aborted on cancel, on engine shutdown, or when the claim was lost. */
  signal: AbortSignal;
}

export type Hook = (ctx: StepContext) => Promise<unknown>;

export interface ActionPlugin {
  protect?: Hook;
  recover?: Hook;
  delete?: Hook;
  verify?: Hook;
}

/** Throw this for failures worth retrying (timeouts, 503s): the engine retries with backoff. */
export class TransientError extends Error {
  override name = 'TransientError';
  readonly transient = true;
}

export function isTransient(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true;
}

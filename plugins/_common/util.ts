/**
 * Helpers the shipped plugins share. This folder has no manifest.json, so the
 * plugin loader never takes it for a plugin; like the plugins themselves it
 * imports nothing from Dragon but the plugin API's types.
 */
import type { Readable } from 'node:stream';
import { Transform, type TransformCallback } from 'node:stream';
import type { StepContext } from '../../services/engine/plugin-api.js';

/**
 * A failure worth retrying. Duck-typed like the plugin API's TransientError
 * (`transient === true`) because a plugin imports only the API's types.
 */
export class PluginTransientError extends Error {
  override name = 'TransientError';
  readonly transient = true;
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return (signal?.aborted ?? false) || (err instanceof Error && err.name === 'AbortError');
}

/** True for cloud errors a retry may cure: 5xx/429 (OpenStackHttpError.transient), connection failures. */
export function looksTransient(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { transient?: unknown; status?: unknown; name?: unknown };
  return e.transient === true || e.status === 503 || e.name === 'OpenStackConnectionError';
}

/** Runs one cloud call; transient cloud errors become PluginTransientError naming what was being done. */
export async function cloud<T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isAbort(err, signal)) throw err;
    if (looksTransient(err) && !(err instanceof PluginTransientError))
      throw new PluginTransientError(`${what}: ${(err as Error).message}`, { cause: err });
    throw err;
  }
}

/** Best-effort cleanup: never hides the original error; a failed cleanup is logged, not thrown. */
export async function cleanup(ctx: StepContext, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    if (status === 404) return;
    ctx.log.warn({ err: (err as Error).message }, `cleanup failed: ${what}`);
  }
}

/**
 * A pass-through that counts bytes (progress in percent of `total` plus
 * `bytes_done`/`bytes_total`) and stops on abort. It hashes nothing: the
 * bank computes SHA-256 and MD5 of what it writes (`BankWriter.put`'s
 * result), and a second pass over every byte was a third of a copy's CPU.
 */
export class Meter extends Transform {
  bytes = 0;
  #lastReport = 0;

  constructor(
    private readonly ctx: StepContext,
    private readonly total: number | undefined,
    private readonly base: { from: number; to: number } = { from: 0, to: 100 },
  ) {
    super();
    const onAbort = () => this.destroy(ctx.signal.reason ?? new Error('aborted'));
    if (ctx.signal.aborted) queueMicrotask(onAbort);
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    this.once('close', () => ctx.signal.removeEventListener('abort', onAbort));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    const now = Date.now();
    if (now - this.#lastReport > 250) {
      this.#lastReport = now;
      this.#report();
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#report();
    cb();
  }

  #report(): void {
    const { from, to } = this.base;
    const share = this.total ? Math.min(1, this.bytes / this.total) : 0;
    this.ctx.progress(Math.round(from + (to - from) * share), {
      bytes_done: this.bytes,
      ...(this.total ? { bytes_total: this.total } : {}),
    });
  }
}

/** Milliseconds from a `timeout_s` option, or the default. */
export function timeoutMs(options: Record<string, unknown>, defaultSeconds: number): number {
  const t = options.timeout_s;
  return (typeof t === 'number' && t > 0 ? t : defaultSeconds) * 1000;
}

/**
 * Feeds `source` through `through` to `sink`. Whatever happens, a source that
 * was not read to its end is destroyed: an HTTP download left paused keeps
 * its connection (and, with undici 7, a server closing it crashes the
 * process: nodejs/undici#5360).
 */
export async function pipeInto<T>(
  source: Readable,
  through: Transform,
  sink: (data: Readable) => Promise<T>,
): Promise<T> {
  source.on('error', (err) => through.destroy(err));
  through.on('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  try {
    return await sink(source.pipe(through));
  } finally {
    if (!source.readableEnded) source.destroy();
    if (!through.destroyed && !through.writableFinished) through.destroy();
  }
}

/** What `oncePerExecution` holds: the answer (or the call still running) and when it was asked. */
const executionFacts = new Map<string, { value: Promise<unknown>; at: number }>();
const EXECUTION_FACT_TTL_MS = 60_000;

/**
 * A site fact that holds for the span of one execution (the volume types, the
 * replicas a Cinder backend can take over), asked once per execution and
 * shared by its steps, not asked again by each of 100 steps. A failed call is
 * forgotten, so the next step asks again; answers are kept a minute at most.
 */
export function oncePerExecution<T>(
  ctx: Pick<StepContext, 'executionId'>,
  key: string,
  ask: () => Promise<T>,
): Promise<T> {
  const now = Date.now();
  for (const [k, f] of executionFacts) if (now - f.at > EXECUTION_FACT_TTL_MS) executionFacts.delete(k);
  const id = `${ctx.executionId}\u0000${key}`;
  const known = executionFacts.get(id);
  if (known) return known.value as Promise<T>;
  const value = ask();
  const fact = { value: value as Promise<unknown>, at: now };
  executionFacts.set(id, fact);
  // Only this call's entry: a newer one made after it expired stays.
  value.catch(() => {
    if (executionFacts.get(id) === fact) executionFacts.delete(id);
  });
  return value;
}

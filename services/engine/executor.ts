/**
 * Runs one claimed execution: a graph of steps (resource x action) run
 * children-first, independent steps in parallel up to `maxParallelSteps`,
 * each step recorded (status, progress, error, result, attempts) and retried
 * with backoff on transient errors. Finished steps are never run again, so a
 * takeover continues where the dead engine stopped.
 */
import { setMaxListeners } from 'node:events';
import type { Knex } from 'knex';
import type { Logger } from '../common/log.js';
import { isTransient, type StepContext } from './plugin-api.js';
import type { LoadedPlugin } from './plugins/loader.js';
import { type Claim, ClaimedExecution, ClaimLostError, type ExecutionRow, type StepRow } from './store.js';

/** Which plugin hook each execution kind calls on its steps. */
export const HOOK_OF_KIND: Record<string, 'protect' | 'recover' | 'delete' | 'verify'> = {
  protect: 'protect',
  recover: 'recover',
  delete_checkpoint: 'delete',
  verify: 'verify',
  recovery_delete: 'delete',
};

export interface ExecutorSettings {
  host: string;
  maxParallelSteps: number;
  heartbeatIntervalMs: number;
  stepRetries: number;
  retryBackoffMs: number;
}

/**
 * What an execution kind adds to the generic machinery: the context its
 * steps need (site clients, the bank), per-step extras, and what happens
 * once the outcome is known (e.g. a checkpoint becomes available or error).
 */
export interface ExecutionKindHooks {
  /** Made once per run (also after a takeover); a throw fails the execution with that message. */
  prepare?(execution: ExecutionRow, log: Logger): Promise<PreparedRun>;
  /** Called with the outcome before the execution's final status is written; idempotent. */
  finished?(
    execution: ExecutionRow,
    outcome: { status: 'succeeded' | 'failed' | 'cancelled'; error: string | null },
    prepared: PreparedRun | undefined,
    log: Logger,
  ): Promise<void>;
}

export interface PreparedRun {
  /** Merged into every step's context. */
  context: Record<string, unknown>;
  /** Extras for one step (e.g. what its protect step saved). */
  stepContext?(step: StepRow): Record<string, unknown>;
  /**
   * A step is past its point-in-time capture: its hook called
   * `ctx.pointInTime()`, or it ended (succeeded, failed, cancelled) without
   * calling it. Called at most once per step attempt; must not throw.
   */
  pointInTime?(step: StepRow): void;
  /**
   * Dependencies the kind found it can drop once it sees the cloud (e.g. a
   * server step needs only the volume steps of the volumes it uses), as the
   * lists to keep by step name. Only removals apply: each list is
   * intersected with the planned one, so the plan's ordering can be relaxed,
   * never extended (and no cycle can appear).
   */
  narrowDependencies?: Record<string, string[]>;
  close?(): Promise<void>;
}

export interface ExecutorDeps {
  db: Knex;
  plugins: Map<string, LoadedPlugin>;
  settings: ExecutorSettings;
  log: Logger;
  kinds?: Record<string, ExecutionKindHooks>;
}

export type StopReason = 'cancel' | 'shutdown' | 'lost';

/** The handle the engine keeps for an execution it runs, so RPC cancel and shutdown can reach it. */
export class RunningExecution {
  readonly controller = new AbortController();
  stopReason?: StopReason;
  constructor(readonly id: string) {
    // Every parallel step listens on the same signal; that is by design, not a leak.
    setMaxListeners(0, this.controller.signal);
  }
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.controller.abort(
      new Error(reason === 'cancel' ? 'execution cancelled' : `execution stopped (${reason})`),
    );
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function describeStep(s: Pick<StepRow, 'name' | 'action' | 'resource_type' | 'resource_id'>): string {
  const target = [s.resource_type, s.resource_id].filter(Boolean).join(' ');
  return `step ${s.name} (${s.action}${target ? ` on ${target}` : ''})`;
}

const PROGRESS_WRITE_INTERVAL_MS = 1000;

/**
 * A step's `params.priority` (default 0): among the steps ready at the same
 * time, higher ones start first. A long step that nothing else holds up (a
 * protect's template) should not wait behind a hundred short ones for a slot.
 * Equal priorities keep the name order (a stable sort).
 */
function priorityOf(step: StepRow): number {
  const p = step.params?.priority;
  return typeof p === 'number' && Number.isFinite(p) ? p : 0;
}

/** Applies a kind's narrowed dependencies: in memory and, fenced, in one write. */
async function narrow(
  exec: ClaimedExecution,
  steps: StepRow[],
  keep: Record<string, string[]>,
  log: Logger,
): Promise<void> {
  const changes = new Map<string, string[]>();
  for (const s of steps) {
    const wanted = keep[s.name];
    if (!wanted || s.status !== 'pending') continue;
    const kept = s.depends_on.filter((d) => wanted.includes(d));
    if (kept.length < s.depends_on.length) changes.set(s.id, kept);
  }
  if (changes.size === 0) return;
  await exec.setDependencies(changes);
  let dropped = 0;
  for (const s of steps) {
    const kept = changes.get(s.id);
    if (!kept) continue;
    dropped += s.depends_on.length - kept.length;
    s.depends_on = kept;
  }
  log.info({ steps: changes.size, dependencies_dropped: dropped }, 'narrowed the step graph');
}

export async function runExecution(
  claim: Claim,
  running: RunningExecution,
  deps: ExecutorDeps,
): Promise<void> {
  const { db, plugins, settings } = deps;
  const row = claim.execution;
  const log = deps.log.child({ execution_id: row.id, request_id: row.request_id ?? undefined });
  const exec = new ClaimedExecution(db, row.id, claim.token);
  const signal = running.controller.signal;

  if (claim.takeover) {
    const n = await exec.resetInterruptedSteps();
    log.warn(
      { interrupted_steps: n, claims: row.claims },
      'continuing an execution another engine started (it stopped heartbeating or handed it back)',
    );
  }
  if (row.cancel_requested || row.status === 'cancelling') running.stop('cancel');

  const steps = await exec.steps();
  const progress = new Map(steps.map((s) => [s.id, s.status === 'succeeded' ? 100 : s.progress]));
  const overall = () =>
    steps.length === 0
      ? 100
      : Math.round(([...progress.values()].reduce((a, b) => a + b, 0) / steps.length) * 10) / 10;
  // Bytes as the plugins report them (`bytes_done`/`bytes_total`, or the older `bytes`/`total_bytes`),
  // per step in memory; the heartbeat writes the sum with the step counts.
  const bytes = new Map<string, { done: number; total?: number; extra: Record<string, unknown> }>();
  const detail = () => {
    const by = (st: string) => steps.filter((s) => s.status === st).length;
    let done = 0;
    let total = 0;
    let totalKnown = bytes.size > 0;
    const running: Record<string, unknown> = {};
    for (const s of steps) {
      const b = bytes.get(s.id);
      if (!b) continue;
      done += b.done;
      if (b.total === undefined) totalKnown = false;
      else total += b.total;
      if (s.status === 'running') running[s.name] = { progress: progress.get(s.id), ...b.extra };
    }
    return {
      steps_total: steps.length,
      steps_done: by('succeeded'),
      steps_running: by('running'),
      steps_failed: by('failed'),
      ...(bytes.size > 0 ? { bytes_done: done } : {}),
      ...(totalKnown ? { bytes_total: total } : {}),
      ...(Object.keys(running).length > 0 ? { steps_detail: running } : {}),
    };
  };
  const noteBytes = (step: StepRow, extra: Record<string, unknown> | undefined) => {
    if (!extra) return;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
    const done = num(extra.bytes_done) ?? num(extra.bytes);
    const total = num(extra.bytes_total) ?? num(extra.total_bytes);
    const before = bytes.get(step.id);
    if (done === undefined && total === undefined && !before) return;
    bytes.set(step.id, {
      done: done ?? before?.done ?? 0,
      total: total ?? before?.total,
      extra: {
        ...(done !== undefined ? { bytes_done: done } : {}),
        ...(total !== undefined ? { bytes_total: total } : {}),
      },
    });
  };

  // Heartbeat: keeps the claim alive, notices cancel requests made by the API and lost claims.
  const heartbeat = setInterval(() => {
    exec
      .heartbeat(overall(), detail())
      .then(({ cancelRequested }) => {
        if (cancelRequested) running.stop('cancel');
      })
      .catch((err) => {
        if (err instanceof ClaimLostError) {
          log.error('lost the claim on the execution; stopping without further writes');
          running.stop('lost');
        } else log.warn({ err: (err as Error).message }, 'heartbeat failed');
      });
  }, settings.heartbeatIntervalMs);

  let firstFailure: string | undefined;
  let fatal: unknown;
  const kindHooks = deps.kinds?.[row.kind];
  let prepared: PreparedRun | undefined;
  try {
    if (!HOOK_OF_KIND[row.kind]) firstFailure = `unknown execution kind ${row.kind}`;
    else if (kindHooks?.prepare && !running.stopReason) {
      try {
        prepared = await kindHooks.prepare(row, log);
      } catch (err) {
        firstFailure = `cannot start the ${row.kind}: ${(err as Error).message}`;
      }
    }
    if (prepared?.narrowDependencies && !firstFailure)
      await narrow(exec, steps, prepared.narrowDependencies, log);
    const inFlight = new Map<string, Promise<void>>();
    const byName = new Map(steps.map((s) => [s.name, s]));
    const ready = () =>
      steps
        .filter(
          (s) =>
            s.status === 'pending' &&
            !inFlight.has(s.id) &&
            s.depends_on.every((d) => byName.get(d)?.status === 'succeeded'),
        )
        .sort((a, b) => priorityOf(b) - priorityOf(a));

    const runStep = async (step: StepRow): Promise<void> => {
      const stepLog = log.child({ step: step.name, action: step.action });
      const plugin = plugins.get(step.action);
      const hook = plugin?.impl[HOOK_OF_KIND[row.kind]];
      if (plugin && !hook && (HOOK_OF_KIND[row.kind] === 'delete' || HOOK_OF_KIND[row.kind] === 'verify')) {
        // delete and verify are optional hooks: an action without one has nothing to do there.
        await exec.updateStep(step.id, {
          status: 'succeeded',
          progress: 100,
          result: { skipped: 'not implemented by the action' },
          finished_at: new Date(),
        });
        step.status = 'succeeded';
        progress.set(step.id, 100);
        return;
      }
      if (!plugin || !hook) {
        const why = !plugin
          ? `action ${step.action} is not loaded on engine ${settings.host}`
          : `action ${step.action} does not implement ${HOOK_OF_KIND[row.kind]}`;
        await exec.updateStep(step.id, { status: 'failed', error: why, finished_at: new Date() });
        step.status = 'failed';
        firstFailure ??= `${describeStep(step)} failed: ${why}`;
        return;
      }
      const dependencies = Object.fromEntries(step.depends_on.map((d) => [d, byName.get(d)?.result ?? null]));
      for (;;) {
        const attempt = await exec.startStep(step.id, settings.host);
        step.status = 'running';
        stepLog.info({ attempt }, 'step started');
        // The first write waits a full interval too: a short step reports 100 % just before it
        // ends, and its final write records that anyway.
        let lastWrite = Date.now();
        let pastPointInTime = false;
        const pointInTime = () => {
          if (pastPointInTime) return;
          pastPointInTime = true;
          try {
            prepared?.pointInTime?.(step);
          } catch (err) {
            stepLog.warn({ err: (err as Error).message }, 'point-in-time notification failed');
          }
        };
        const ctx: StepContext = {
          executionId: row.id,
          stepName: step.name,
          resource: { id: step.resource_id, type: step.resource_type },
          options: (step.params.options as Record<string, unknown>) ?? {},
          params: step.params,
          dependencies,
          attempt,
          signal,
          log: stepLog,
          progress: (percent, extra) => {
            const p = Math.max(0, Math.min(100, percent));
            progress.set(step.id, p);
            noteBytes(step, extra);
            const now = Date.now();
            if (now - lastWrite < PROGRESS_WRITE_INTERVAL_MS) return;
            lastWrite = now;
            exec.updateStep(step.id, { progress: p }).catch(() => undefined);
          },
          pointInTime,
        };
        try {
          const result = await hook({
            ...ctx,
            ...prepared?.context,
            ...prepared?.stepContext?.(step),
          } as never);
          if (signal.aborted) throw signal.reason;
          await exec.succeedStep(step.id, result ?? null);
          step.status = 'succeeded';
          step.result = result ?? null;
          progress.set(step.id, 100);
          stepLog.info('step succeeded');
          pointInTime();
          return;
        } catch (err) {
          // Whatever happens next (retry, cancel, failure), this attempt no longer holds up a pause.
          if (!(isTransient(err) && attempt <= settings.stepRetries && !signal.aborted)) pointInTime();
          if (err instanceof ClaimLostError) throw err;
          if (signal.aborted) {
            if (running.stopReason === 'cancel') {
              await exec.updateStep(step.id, {
                status: 'cancelled',
                error: 'cancelled',
                finished_at: new Date(),
              });
              step.status = 'cancelled';
            }
            // On shutdown the step stays `running`; release() hands it back as pending.
            return;
          }
          const message = (err as Error)?.message ?? String(err);
          if (isTransient(err) && attempt <= settings.stepRetries) {
            const delay = settings.retryBackoffMs * 2 ** (attempt - 1);
            stepLog.warn(
              { attempt, retry_in_ms: delay, err: message },
              'step failed with a transient error; retrying',
            );
            await exec.updateStep(step.id, { status: 'pending', error: message });
            try {
              await abortableSleep(delay, signal);
            } catch {
              if (running.stopReason === 'cancel') {
                await exec.updateStep(step.id, { status: 'cancelled', finished_at: new Date() });
                step.status = 'cancelled';
              }
              return;
            }
            continue;
          }
          await exec.updateStep(step.id, { status: 'failed', error: message, finished_at: new Date() });
          step.status = 'failed';
          stepLog.error({ err: message, attempt }, 'step failed');
          firstFailure ??= `${describeStep(step)} failed: ${message}`;
          return;
        }
      }
    };

    // The scheduling loop: start what is ready, wait for any step to end, repeat.
    while (!firstFailure && !signal.aborted && !fatal) {
      for (const step of ready()) {
        if (inFlight.size >= settings.maxParallelSteps) break;
        inFlight.set(
          step.id,
          runStep(step)
            .catch((err) => {
              fatal ??= err;
              running.stop('lost');
            })
            .finally(() => inFlight.delete(step.id)),
        );
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight.values());
    }
    await Promise.allSettled(inFlight.values());
    // A ClaimLostError (or a database failure) inside a step surfaces here.
    if (fatal) throw fatal;

    if (running.stopReason === 'lost') return;
    if (running.stopReason === 'shutdown') {
      await exec.release();
      log.info('released the execution for another engine (shutting down)');
      return;
    }
    const ended = async (status: 'succeeded' | 'failed' | 'cancelled', error: string | null) => {
      try {
        await kindHooks?.finished?.(row, { status, error }, prepared, log);
      } catch (err) {
        log.error({ err: (err as Error).message }, `finishing the ${row.kind} failed`);
      }
    };
    if (running.stopReason === 'cancel') {
      await exec.finishSteps(['pending', 'running'], 'cancelled');
      await exec.setProgress(overall(), detail());
      await ended('cancelled', null);
      await exec.finish('cancelled', { error: null, progress: overall() });
      log.info('execution cancelled');
      return;
    }
    if (firstFailure) {
      await exec.finishSteps(['pending'], 'skipped');
      await exec.setProgress(overall(), detail());
      await ended('failed', firstFailure);
      await exec.finish('failed', { error: firstFailure, progress: overall() });
      log.error({ err: firstFailure }, 'execution failed');
      return;
    }
    const unfinished = steps.filter((s) => s.status !== 'succeeded');
    if (unfinished.length > 0) {
      // Only possible with a dependency on a step that can never succeed.
      const msg = `steps could not run: ${unfinished.map((s) => s.name).join(', ')}`;
      await ended('failed', msg);
      await exec.finish('failed', { error: msg, progress: overall() });
      return;
    }
    await exec.setProgress(100, detail());
    await ended('succeeded', null);
    await exec.finish('succeeded', { progress: 100, result: { steps: steps.length } });
    log.info('execution succeeded');
  } catch (err) {
    if (err instanceof ClaimLostError) {
      log.error('lost the claim on the execution; another engine continues it');
      return;
    }
    throw err;
  } finally {
    clearInterval(heartbeat);
    await prepared?.close?.().catch(() => undefined);
  }
}

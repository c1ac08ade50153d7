import type { DragonClient } from './client.js';

/** Statuses after which an execution never changes again. */
export const FINAL_STATUSES = new Set(['succeeded', 'failed', 'cancelled']);
const FINAL_STEP_STATUSES = new Set(['succeeded', 'failed', 'cancelled', 'skipped']);

export interface ExecutionStep {
  id: string;
  name?: string;
  status: string;
  [key: string]: unknown;
}

export interface Execution {
  id: string;
  kind?: string;
  status: string;
  progress?: number;
  progress_detail?: unknown;
  error?: string | null;
  steps?: ExecutionStep[];
  [key: string]: unknown;
}

export interface ExecutionProgress {
  status: string;
  progress: number;
  stepsDone: number;
  stepsTotal: number;
}

export interface WaitOptions {
  intervalMs?: number;
  /** give up (and throw) after this long; default: wait for ever like OSC */
  timeoutMs?: number;
  signal?: AbortSignal;
}

function summarise(execution: Execution): ExecutionProgress {
  const steps = execution.steps ?? [];
  return {
    status: execution.status,
    progress: execution.progress ?? 0,
    stepsDone: steps.filter((s) => FINAL_STEP_STATUSES.has(s.status)).length,
    stepsTotal: steps.length,
  };
}

/** The progress line `--wait` prints to stderr. */
export function progressLine(id: string, p: ExecutionProgress): string {
  return `Execution ${id}: ${p.status} ${p.progress}% (${p.stepsDone}/${p.stepsTotal} steps done)`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason ?? new Error('aborted'));
    });
  });

/**
 * Poll GET /v1/executions/{id} until the execution reaches a final status,
 * calling onProgress whenever status, percent or finished steps change.
 * Returns the final execution; the caller decides what a failure means.
 */
export async function waitForExecution(
  client: DragonClient,
  id: string,
  onProgress: (p: ExecutionProgress, execution: Execution) => void = () => {},
  opts: WaitOptions = {},
): Promise<Execution> {
  const interval = opts.intervalMs ?? 2000;
  const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    const { execution } = await client.get<{ execution: Execution }>(
      `/v1/executions/${encodeURIComponent(id)}`,
    );
    const p = summarise(execution);
    const key = `${p.status}|${p.progress}|${p.stepsDone}|${p.stepsTotal}`;
    if (key !== last) {
      last = key;
      onProgress(p, execution);
    }
    if (FINAL_STATUSES.has(execution.status)) return execution;
    if (Date.now() + interval > deadline) throw new Error(`Timed out waiting for execution ${id}`);
    await sleep(interval, opts.signal);
  }
}

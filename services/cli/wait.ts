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
  /** Bytes copied so far and in all, when the engine knows them (progress_detail). */
  bytesDone?: number;
  bytesTotal?: number;
}

export interface WaitOptions {
  intervalMs?: number;
  /** give up (and throw) after this long; default: wait for ever like OSC */
  timeoutMs?: number;
  signal?: AbortSignal;
}

function summarise(execution: Execution): ExecutionProgress {
  const steps = execution.steps ?? [];
  const detail = (execution.progress_detail ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const bytesDone = num(detail.bytes_done);
  const bytesTotal = num(detail.bytes_total);
  return {
    status: execution.status,
    progress: execution.progress ?? 0,
    stepsDone: steps.filter((s) => FINAL_STEP_STATUSES.has(s.status)).length,
    stepsTotal: steps.length,
    ...(bytesDone !== undefined ? { bytesDone } : {}),
    ...(bytesTotal !== undefined ? { bytesTotal } : {}),
  };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB" (binary units, like `openstack image show` sizes read by people). */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/** "12.0 MiB of 40.0 MiB" (or only the bytes done when the total is not known), or undefined. */
export function bytesText(p: Pick<ExecutionProgress, 'bytesDone' | 'bytesTotal'>): string | undefined {
  if (p.bytesDone === undefined) return undefined;
  return p.bytesTotal !== undefined && p.bytesTotal > 0
    ? `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`
    : formatBytes(p.bytesDone);
}

/** The progress line `--wait` prints to stderr. */
export function progressLine(id: string, p: ExecutionProgress): string {
  const bytes = bytesText(p);
  return `Execution ${id}: ${p.status} ${p.progress}% (${p.stepsDone}/${p.stepsTotal} steps done${bytes ? `, ${bytes}` : ''})`;
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
    const key = `${p.status}|${p.progress}|${p.stepsDone}|${p.stepsTotal}|${p.bytesDone}`;
    if (key !== last) {
      last = key;
      onProgress(p, execution);
    }
    if (FINAL_STATUSES.has(execution.status)) return execution;
    if (Date.now() + interval > deadline) throw new Error(`Timed out waiting for execution ${id}`);
    await sleep(interval, opts.signal);
  }
}

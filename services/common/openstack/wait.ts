/**
 * Waiting for an OpenStack resource to reach a status: servers to become
 * ACTIVE, volumes available, images active, stacks CREATE_COMPLETE. Errors
 * name the resource and the fault the cloud reported, so an operator reading
 * an execution's error knows what failed and why.
 */
export class WaitError extends Error {
  override name = 'WaitError';
}

export interface WaitOptions<T> {
  /** What is awaited, for messages: "server 1234", "volume abcd". */
  resource: string;
  /** Reads the resource's current state. */
  poll: () => Promise<T>;
  /** The status field of the state. */
  status: (state: T) => string;
  ready: readonly string[];
  failed?: readonly string[];
  /** The cloud's fault for a failed state (e.g. server.fault.message). */
  fault?: (state: T) => string | undefined;
  timeoutMs?: number;
  intervalMs?: number;
  /** Grows the interval up to this (polling gently on long waits). */
  maxIntervalMs?: number;
  onProgress?: (state: T) => void;
  signal?: AbortSignal;
}

export async function waitFor<T>(o: WaitOptions<T>): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 600_000);
  let interval = o.intervalMs ?? 500;
  let last: T | undefined;
  for (;;) {
    o.signal?.throwIfAborted();
    last = await o.poll();
    const status = o.status(last);
    o.onProgress?.(last);
    if (o.ready.includes(status)) return last;
    if (o.failed?.includes(status)) {
      const fault = o.fault?.(last);
      throw new WaitError(`${o.resource} went to ${status}${fault ? `: ${fault}` : ''}`);
    }
    if (Date.now() + interval > deadline) {
      throw new WaitError(
        `${o.resource} still ${status} after ${Math.round((o.timeoutMs ?? 600_000) / 1000)} s (waiting for ${o.ready.join(' or ')})`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, interval);
      o.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          reject(o.signal?.reason);
        },
        { once: true },
      );
    });
    interval = Math.min(o.maxIntervalMs ?? 5000, Math.round(interval * 1.5));
  }
}

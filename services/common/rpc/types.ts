/**
 * The RPC layer between dragon-api and dragon-engine, oslo.messaging style:
 * `cast` (fire and forget, at least once) and `call` (request/reply with a
 * timeout) to a topic, optionally to one server (`dragon-engine.<host>`), and
 * `fanout` to every engine. Two transports implement it: RabbitMQ (amqplib)
 * and an in-process bus for the embedded default and unit tests.
 */
import type { RequestContext } from '../context.js';

export interface Target {
  /** Topic (queue) name, e.g. 'dragon-engine'. */
  topic: string;
  /** Deliver to one server's own queue `<topic>.<server>` instead of the shared queue. */
  server?: string;
  /** Deliver to every listener of the topic. */
  fanout?: boolean;
}

export type RpcHandler = (ctx: RequestContext, args: Record<string, unknown>) => Promise<unknown> | unknown;
export type Endpoints = Record<string, RpcHandler>;

export interface RpcServerHandle {
  stop(): Promise<void>;
}

export interface Transport {
  /** Fire and forget; resolves once the broker has accepted the message (publisher confirm). */
  cast(target: Target, method: string, args: Record<string, unknown>, ctx: RequestContext): Promise<void>;
  /** Request/reply; rejects with RpcTimeoutError after `timeoutMs`, or RemoteError if the handler threw. */
  call<T = unknown>(
    target: Target,
    method: string,
    args: Record<string, unknown>,
    ctx: RequestContext,
    timeoutMs?: number,
  ): Promise<T>;
  /**
   * Consumes the topic's shared queue (competing consumers), its own
   * `<topic>.<server>` queue and the topic's fanout. A message is acknowledged
   * only after its handler resolved (so the handler must persist first).
   */
  listen(topic: string, server: string, endpoints: Endpoints): Promise<RpcServerHandle>;
  /**
   * An oslo-format notification (event_type, priority, payload) for whoever
   * listens (Ceilometer, a billing or audit consumer): on RabbitMQ, published
   * on the topic exchange with routing key `notifications.<priority>`.
   * Best effort for the caller: a lost notification never fails the work.
   */
  notify(
    eventType: string,
    payload: Record<string, unknown>,
    ctx: RequestContext,
    priority?: NotificationPriority,
    publisherId?: string,
  ): Promise<void>;
  /** 'ok' when connected; used by the health check. */
  status(): 'ok' | 'down';
  close(): Promise<void>;
}

export type NotificationPriority = 'info' | 'warn' | 'error';

/** Routing key of a notification, as oslo.messaging's `notifications` topic names it. */
export const NOTIFICATIONS_TOPIC = 'notifications';

export class RpcTimeoutError extends Error {
  override name = 'RpcTimeoutError';
}

export class RemoteError extends Error {
  override name = 'RemoteError';
  constructor(
    readonly excType: string,
    message: string,
  ) {
    super(message);
  }
}

export const ENGINE_TOPIC = 'dragon-engine';
export const EXCHANGE = 'dragon';

/** Waits for an RPC reply for at most `timeoutMs`, then rejects with RpcTimeoutError naming the method. */
export async function replyWithin<T>(reply: Promise<unknown>, timeoutMs: number, method: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RpcTimeoutError(`timed out after ${timeoutMs} ms waiting for a reply to ${method}`)),
      timeoutMs,
    );
  });
  try {
    return (await Promise.race([reply, timeout])) as T;
  } finally {
    clearTimeout(timer);
  }
}

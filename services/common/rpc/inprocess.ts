/**
 * The in-process bus: the embedded default (api and engine in one process)
 * and the transport of unit tests. Same semantics as the RabbitMQ transport:
 * competing consumers on a topic, a per-server queue, fanout, and a message
 * is "acked" (removed) only once its handler resolved; a handler that throws
 * on a cast leaves nothing queued, like a RabbitMQ nack without requeue.
 */
import { hostname } from 'node:os';
import { contextFromDict, contextToDict, type RequestContext } from '../context.js';
import { getLogger } from '../log.js';
import { makeNotification, type NotificationMessage } from './envelope.js';
import {
  type Endpoints,
  type NotificationPriority,
  RemoteError,
  type RpcServerHandle,
  RpcTimeoutError,
  replyWithin,
  type Target,
  type Transport,
} from './types.js';

interface Listener {
  topic: string;
  server: string;
  endpoints: Endpoints;
}

export class InProcessTransport implements Transport {
  #listeners: Listener[] = [];
  #rr = new Map<string, number>();
  #closed = false;
  readonly #log = getLogger('rpc');

  async cast(
    target: Target,
    method: string,
    args: Record<string, unknown>,
    ctx: RequestContext,
  ): Promise<void> {
    for (const l of this.#pick(target)) {
      // Like a broker: delivery happens later, never inside the caller's stack.
      setImmediate(() => {
        this.#dispatch(l, method, args, ctx).catch((err) =>
          this.#log.error({ err: String(err), method }, 'rpc cast handler failed'),
        );
      });
    }
  }

  async call<T>(
    target: Target,
    method: string,
    args: Record<string, unknown>,
    ctx: RequestContext,
    timeoutMs = 60_000,
  ): Promise<T> {
    const [l] = this.#pick(target);
    if (!l)
      throw new RpcTimeoutError(
        `no server listening on ${target.topic}${target.server ? `.${target.server}` : ''}`,
      );
    return replyWithin<T>(this.#dispatch(l, method, args, ctx), timeoutMs, method);
  }

  async listen(topic: string, server: string, endpoints: Endpoints): Promise<RpcServerHandle> {
    const l: Listener = { topic, server, endpoints };
    this.#listeners.push(l);
    return {
      stop: async () => {
        this.#listeners = this.#listeners.filter((x) => x !== l);
      },
    };
  }

  /** Notifications sent through this bus, oldest first (nobody consumes them in-process). */
  readonly notifications: NotificationMessage[] = [];

  async notify(
    eventType: string,
    payload: Record<string, unknown>,
    ctx: RequestContext,
    priority: NotificationPriority = 'info',
    publisherId = `dragon-engine.${hostname()}`,
  ): Promise<void> {
    // Bounded: a long-running embedded process must not grow without limit.
    if (this.notifications.length >= 1000) this.notifications.shift();
    this.notifications.push(
      JSON.parse(
        JSON.stringify(makeNotification(publisherId, eventType, priority, payload, contextToDict(ctx))),
      ),
    );
  }

  status(): 'ok' | 'down' {
    return this.#closed ? 'down' : 'ok';
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners = [];
  }

  #pick(target: Target): Listener[] {
    const matching = this.#listeners.filter(
      (l) => l.topic === target.topic && (target.server === undefined || l.server === target.server),
    );
    if (target.fanout || matching.length <= 1) return matching;
    const n = this.#rr.get(target.topic) ?? 0;
    this.#rr.set(target.topic, n + 1);
    return [matching[n % matching.length]];
  }

  async #dispatch(
    l: Listener,
    method: string,
    args: Record<string, unknown>,
    ctx: RequestContext,
  ): Promise<unknown> {
    const handler = l.endpoints[method];
    if (!handler)
      throw new RemoteError('UnsupportedVersion', `endpoint does not support RPC method ${method}`);
    // Round-trip through JSON so handlers see exactly what RabbitMQ would deliver.
    const wire = JSON.parse(JSON.stringify({ args, ctx: contextToDict(ctx) }));
    try {
      return JSON.parse(JSON.stringify((await handler(contextFromDict(wire.ctx), wire.args)) ?? null));
    } catch (err) {
      if (err instanceof RemoteError) throw err;
      const e = err as Error;
      throw new RemoteError(e.name ?? 'Error', e.message ?? String(err));
    }
  }
}

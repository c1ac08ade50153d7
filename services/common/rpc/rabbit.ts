/**
 * RabbitMQ transport (amqplib), laid out on the broker the way
 * oslo.messaging does it so an operator recognises it:
 *   - topic exchange `dragon` (durable); durable queue `<topic>` bound with
 *     routing key `<topic>` (competing consumers) and durable queue
 *     `<topic>.<server>` bound with `<topic>.<server>`;
 *   - fanout exchange `<topic>_fanout` with one exclusive queue per listener;
 *   - replies through the default exchange to an exclusive `reply_<uuid>` queue.
 * Messages are persistent and published on a confirm channel; consumers use
 * a prefetch and ack only after the handler resolved. The connection is
 * re-established with capped exponential backoff and every listener is
 * re-subscribed, so a broker restart loses no accepted message.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { contextFromDict, contextToDict, type RequestContext } from '../context.js';
import { getLogger } from '../log.js';
import {
  contextOf,
  failureOf,
  type InnerMessage,
  makeNotification,
  makeRequest,
  parseFailure,
  type ReplyMessage,
  unwrap,
  wrap,
} from './envelope.js';
import {
  type Endpoints,
  EXCHANGE,
  NOTIFICATIONS_TOPIC,
  type NotificationPriority,
  RemoteError,
  type RpcServerHandle,
  replyWithin,
  type Target,
  type Transport,
} from './types.js';

export class RpcUnavailableError extends Error {
  override name = 'RpcUnavailableError';
}

export interface RabbitOptions {
  /** transport_url: rabbit:// or amqp:// URL (several hosts are not supported yet). */
  url: string;
  prefetch?: number;
  reconnectMaxDelayMs?: number;
  /** How long cast/call wait for a connection before giving up. */
  connectWaitMs?: number;
  exchange?: string;
}

interface Subscription {
  topic: string;
  server: string;
  endpoints: Endpoints;
  channel?: Channel;
  stopped: boolean;
}

/** oslo's `rabbit://user:pass@host:port/vhost` → amqplib's `amqp://...`. */
export function toAmqpUrl(transportUrl: string): string {
  const url = new URL(transportUrl);
  if (url.protocol === 'rabbit:') return `amqp:${transportUrl.slice('rabbit:'.length)}`;
  if (url.protocol === 'amqp:' || url.protocol === 'amqps:') return transportUrl;
  throw new Error(`transport_url must start with rabbit:// or amqp:// (got ${url.protocol}//...)`);
}

export class RabbitTransport implements Transport {
  readonly #log = getLogger('rpc');
  readonly #url: string;
  readonly #prefetch: number;
  readonly #maxDelay: number;
  readonly #connectWait: number;
  readonly #exchange: string;
  #conn?: ChannelModel;
  #pub?: ConfirmChannel;
  #replyQueue = `reply_${randomUUID().replaceAll('-', '')}`;
  #pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #subs: Subscription[] = [];
  #closed = false;
  #connecting?: Promise<void>;
  #waiters: Array<() => void> = [];
  #attempt = 0;
  #reconnectTimer?: NodeJS.Timeout;

  constructor(opts: RabbitOptions) {
    this.#url = toAmqpUrl(opts.url);
    this.#prefetch = opts.prefetch ?? 8;
    this.#maxDelay = opts.reconnectMaxDelayMs ?? 30_000;
    this.#connectWait = opts.connectWaitMs ?? 5_000;
    this.#exchange = opts.exchange ?? EXCHANGE;
  }

  /**
   * First connection. When the broker is not there yet the service still
   * starts (the database is the source of truth and sweeps find the work);
   * the transport keeps retrying in the background, like oslo.messaging.
   */
  async connect(): Promise<void> {
    try {
      await this.#connectOnce();
    } catch (err) {
      this.#log.error(
        { err: (err as Error).message },
        'cannot reach the message bus yet; retrying in the background',
      );
      this.#scheduleReconnect();
    }
  }

  status(): 'ok' | 'down' {
    return this.#pub ? 'ok' : 'down';
  }

  async cast(
    target: Target,
    method: string,
    args: Record<string, unknown>,
    ctx: RequestContext,
  ): Promise<void> {
    const msg = makeRequest(method, args, contextToDict(ctx));
    await this.#publish(target, msg);
  }

  async call<T>(
    target: Target,
    method: string,
    args: Record<string, unknown>,
    ctx: RequestContext,
    timeoutMs = 60_000,
  ): Promise<T> {
    const msgId = randomUUID().replaceAll('-', '');
    const msg = makeRequest(method, args, contextToDict(ctx), { msgId, replyQueue: this.#replyQueue });
    const reply = new Promise<unknown>((resolve, reject) => this.#pending.set(msgId, { resolve, reject }));
    // The reply may arrive before the publisher confirm; it is awaited below, so mark it handled now.
    reply.catch(() => undefined);
    try {
      await this.#publish(target, msg);
      return await replyWithin<T>(reply, timeoutMs, method);
    } finally {
      this.#pending.delete(msgId);
    }
  }

  async notify(
    eventType: string,
    payload: Record<string, unknown>,
    ctx: RequestContext,
    priority: NotificationPriority = 'info',
    publisherId = `dragon-engine.${hostname()}`,
  ): Promise<void> {
    const msg = makeNotification(publisherId, eventType, priority, payload, contextToDict(ctx));
    await this.#publish({ topic: `${NOTIFICATIONS_TOPIC}.${priority}` }, msg);
  }

  async listen(topic: string, server: string, endpoints: Endpoints): Promise<RpcServerHandle> {
    const sub: Subscription = { topic, server, endpoints, stopped: false };
    this.#subs.push(sub);
    if (this.#conn) await this.#subscribe(sub);
    return {
      stop: async () => {
        sub.stopped = true;
        this.#subs = this.#subs.filter((s) => s !== sub);
        await sub.channel?.close().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    for (const p of this.#pending.values()) p.reject(new RpcUnavailableError('transport closed'));
    await this.#conn?.close().catch(() => undefined);
    this.#conn = undefined;
    this.#pub = undefined;
  }

  async #publish(target: Target, msg: object): Promise<void> {
    const ch = await this.#channel();
    const body = wrap(msg);
    const options = { persistent: true, contentType: 'application/json', contentEncoding: 'utf-8' };
    await new Promise<void>((resolve, reject) => {
      const done = (err: unknown) =>
        err ? reject(new RpcUnavailableError(`broker refused the message: ${err}`)) : resolve();
      try {
        if (target.fanout) ch.publish(`${target.topic}_fanout`, '', body, options, done);
        else
          ch.publish(
            this.#exchange,
            target.server ? `${target.topic}.${target.server}` : target.topic,
            body,
            options,
            done,
          );
      } catch (err) {
        reject(new RpcUnavailableError(`cannot publish: ${(err as Error).message}`));
      }
    });
  }

  /** The publishing channel, waiting a bounded time for a reconnect in progress. */
  async #channel(): Promise<ConfirmChannel> {
    if (this.#pub) return this.#pub;
    if (this.#closed) throw new RpcUnavailableError('transport closed');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(new RpcUnavailableError(`message bus unreachable for ${this.#connectWait} ms`));
      }, this.#connectWait);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(wake);
    });
    if (!this.#pub) throw new RpcUnavailableError('message bus unreachable');
    return this.#pub;
  }

  async #connectOnce(): Promise<void> {
    if (this.#connecting) return this.#connecting;
    this.#connecting = (async () => {
      const conn = await amqp.connect(this.#url, { timeout: 5000 });
      conn.on('error', (err) => this.#log.warn({ err: err.message }, 'message bus connection error'));
      conn.on('close', () => this.#lost(conn));
      const pub = await conn.createConfirmChannel();
      pub.on('error', (err) => this.#log.warn({ err: err.message }, 'message bus channel error'));
      await pub.assertExchange(this.#exchange, 'topic', { durable: true });
      await pub.assertQueue(this.#replyQueue, { exclusive: true, autoDelete: true });
      await pub.consume(this.#replyQueue, (m) => this.#onReply(pub, m), { noAck: true });
      this.#conn = conn;
      this.#pub = pub;
      this.#attempt = 0;
      for (const sub of this.#subs) await this.#subscribe(sub);
      for (const wake of this.#waiters.splice(0)) wake();
      this.#log.info('connected to the message bus');
    })();
    try {
      await this.#connecting;
    } finally {
      this.#connecting = undefined;
    }
  }

  #lost(conn: ChannelModel): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.#pub = undefined;
    for (const sub of this.#subs) sub.channel = undefined;
    if (this.#closed) return;
    this.#log.warn('lost the message bus connection; reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer) return;
    const delay = Math.min(this.#maxDelay, 200 * 2 ** this.#attempt++) * (0.8 + Math.random() * 0.4);
    this.#reconnectTimer = setTimeout(async () => {
      this.#reconnectTimer = undefined;
      try {
        await this.#connectOnce();
      } catch (err) {
        this.#log.warn(
          { err: (err as Error).message, attempt: this.#attempt },
          'message bus reconnect failed',
        );
        this.#scheduleReconnect();
      }
    }, delay);
    this.#reconnectTimer.unref?.();
  }

  #onReply(_ch: Channel, m: ConsumeMessage | null): void {
    if (!m) return;
    const reply = unwrap<ReplyMessage>(m.content);
    const id = reply._msg_id ?? m.properties.correlationId;
    const waiter = id ? this.#pending.get(id) : undefined;
    if (!waiter) return;
    if (reply.failure) {
      const f = parseFailure(reply.failure);
      waiter.reject(new RemoteError(f.excType, f.message));
    } else waiter.resolve(reply.result ?? null);
  }

  async #subscribe(sub: Subscription): Promise<void> {
    if (!this.#conn || sub.stopped) return;
    const ch = await this.#conn.createChannel();
    ch.on('error', (err) => this.#log.warn({ err: err.message }, 'consumer channel error'));
    await ch.prefetch(this.#prefetch);
    await ch.assertExchange(this.#exchange, 'topic', { durable: true });
    await ch.assertExchange(`${sub.topic}_fanout`, 'fanout', { durable: false, autoDelete: true });
    const shared = sub.topic;
    const own = `${sub.topic}.${sub.server}`;
    await ch.assertQueue(shared, { durable: true });
    await ch.bindQueue(shared, this.#exchange, shared);
    await ch.assertQueue(own, { durable: true });
    await ch.bindQueue(own, this.#exchange, own);
    const fan = await ch.assertQueue(`${sub.topic}_fanout_${randomUUID().replaceAll('-', '')}`, {
      exclusive: true,
      autoDelete: true,
    });
    await ch.bindQueue(fan.queue, `${sub.topic}_fanout`, '');
    for (const q of [shared, own, fan.queue]) {
      await ch.consume(q, (m) => {
        if (m) void this.#handle(sub, ch, m);
      });
    }
    sub.channel = ch;
  }

  async #handle(sub: Subscription, ch: Channel, m: ConsumeMessage): Promise<void> {
    let msg: InnerMessage;
    try {
      msg = unwrap<InnerMessage>(m.content);
    } catch {
      this.#log.error('dropping an undecodable RPC message');
      ch.nack(m, false, false);
      return;
    }
    const ctx = contextFromDict(contextOf(msg));
    const handler = sub.endpoints[msg.method];
    let reply: ReplyMessage;
    if (!handler) {
      reply = {
        failure: failureOf(
          Object.assign(new Error(`unsupported RPC method ${msg.method}`), { name: 'UnsupportedVersion' }),
        ),
      };
    } else {
      try {
        reply = { result: (await handler(ctx, msg.args ?? {})) ?? null, failure: null };
      } catch (err) {
        this.#log.error(
          { err: (err as Error).message, method: msg.method, request_id: ctx.requestId },
          'RPC handler failed',
        );
        reply = { failure: failureOf(err) };
      }
    }
    if (msg._reply_q && msg._msg_id) {
      const out = { ...reply, ending: true, _msg_id: msg._msg_id };
      try {
        this.#pub?.sendToQueue(msg._reply_q, wrap(out), {
          correlationId: msg._msg_id,
          contentType: 'application/json',
        });
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'could not send an RPC reply');
      }
    }
    // Acked only now: the handler has persisted what it did (or failed for good).
    try {
      ch.ack(m);
    } catch {
      // The channel died with the connection; the broker redelivers, and handlers are idempotent.
    }
  }
}

/**
 * The oslo.messaging wire format, so that Dragon's RPC looks like every other
 * OpenStack service's on the broker: an outer envelope with `oslo.version`
 * 2.0 and `oslo.message` holding the JSON-encoded inner message.
 */
import { randomUUID } from 'node:crypto';

export interface InnerMessage {
  method: string;
  args: Record<string, unknown>;
  namespace?: string | null;
  version?: string;
  /** oslo puts the context keys at the top level prefixed by `_context_`. */
  [contextKey: `_context_${string}`]: unknown;
  _msg_id?: string;
  _reply_q?: string;
  _unique_id?: string;
}

export interface ReplyMessage {
  result?: unknown;
  failure?: string | null;
  ending?: boolean;
  _msg_id?: string;
  _unique_id?: string;
}

export function wrap(inner: object): Buffer {
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));
}

export function unwrap<T>(body: Buffer): T {
  const outer = JSON.parse(body.toString('utf8'));
  if (outer && typeof outer === 'object' && typeof outer['oslo.message'] === 'string') {
    return JSON.parse(outer['oslo.message']) as T;
  }
  return outer as T;
}

export function makeRequest(
  method: string,
  args: Record<string, unknown>,
  context: Record<string, unknown>,
  reply?: { msgId: string; replyQueue: string },
): InnerMessage {
  const msg: InnerMessage = {
    method,
    args,
    namespace: null,
    version: '1.0',
    _unique_id: randomUUID().replaceAll('-', ''),
  };
  for (const [k, v] of Object.entries(context)) msg[`_context_${k}`] = v;
  if (reply) {
    msg._msg_id = reply.msgId;
    msg._reply_q = reply.replyQueue;
  }
  return msg;
}

export function contextOf(msg: InnerMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg)) if (k.startsWith('_context_')) out[k.slice(9)] = v;
  return out;
}

/** oslo serialises a remote exception as JSON with class, module, message. */
export function failureOf(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  return JSON.stringify({ class: e.name, module: 'dragon', message: e.message, tb: [] });
}

export function parseFailure(failure: string): { excType: string; message: string } {
  try {
    const f = JSON.parse(failure);
    return { excType: String(f.class ?? 'Error'), message: String(f.message ?? failure) };
  } catch {
    return { excType: 'Error', message: failure };
  }
}

export interface NotificationMessage {
  message_id: string;
  publisher_id: string;
  event_type: string;
  /** Upper case on the wire, as oslo.messaging sends it (INFO, WARN, ERROR). */
  priority: string;
  payload: Record<string, unknown>;
  /** UTC, oslo's `YYYY-MM-DD HH:MM:SS.ffffff`. */
  timestamp: string;
  [contextKey: `_context_${string}`]: unknown;
}

/** The oslo notification message (context keys at the top level, like an RPC request). */
export function makeNotification(
  publisherId: string,
  eventType: string,
  priority: string,
  payload: Record<string, unknown>,
  context: Record<string, unknown>,
  now = new Date(),
): NotificationMessage {
  const msg: NotificationMessage = {
    message_id: randomUUID(),
    publisher_id: publisherId,
    event_type: eventType,
    priority: priority.toUpperCase(),
    payload,
    timestamp: `${now.toISOString().replace('T', ' ').slice(0, 23)}000`,
  };
  for (const [k, v] of Object.entries(context)) msg[`_context_${k}`] = v;
  return msg;
}

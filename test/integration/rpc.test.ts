/**
 * RPC over a real RabbitMQ: call/cast between two processes, the oslo.messaging
 * envelope on the wire, competing consumers, and remote errors.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../services/common/context.js';
import { RabbitTransport } from '../../services/common/rpc/rabbit.js';
import { RemoteError, RpcTimeoutError } from '../../services/common/rpc/types.js';
import { type DragonProcess, startDragonProcess } from '../support/dragon-process.js';
import { createVhost } from '../support/rabbit.js';

const ctx: RequestContext = {
  requestId: 'req-11111111-2222-3333-4444-555555555555',
  userId: 'u1',
  projectId: 'p1',
  roles: ['member'],
  isAdminProject: false,
};
let vhost: { url: string; delete(): Promise<void> };
let servers: DragonProcess[] = [];
let client: RabbitTransport;
const record = join(mkdtempSync(join(tmpdir(), 'dragon-rpc-')), 'record.jsonl');

beforeAll(async () => {
  vhost = await createVhost();
  servers = ['one', 'two'].map((name) =>
    startDragonProcess('test/support/rpc-echo-server.ts', {}, [vhost.url, 'dragon-test', name, record]),
  );
  await Promise.all(servers.map((s) => s.waitFor(/rpc server ready/)));
  client = new RabbitTransport({ url: vhost.url });
  await client.connect();
});

afterAll(async () => {
  await client?.close();
  await Promise.all(servers.map((s) => s.stop()));
  await vhost?.delete();
});

describe('RPC over RabbitMQ between processes', () => {
  it('calls a method in another process and gets its reply with the caller context', async () => {
    const reply = await client.call<{ args: unknown; user: string; project: string }>(
      { topic: 'dragon-test' },
      'echo',
      { n: 42, nested: { a: [1, 2] } },
      ctx,
    );
    expect(reply).toMatchObject({ args: { n: 42, nested: { a: [1, 2] } }, user: 'u1', project: 'p1' });
  });

  it('spreads calls over competing consumers on the shared queue, and reaches one server by its own queue', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      seen.add((await client.call<{ server: string }>({ topic: 'dragon-test' }, 'echo', { i }, ctx)).server);
    }
    expect([...seen].sort()).toEqual(['one', 'two']);
    for (let i = 0; i < 4; i++) {
      expect(
        (await client.call<{ server: string }>({ topic: 'dragon-test', server: 'two' }, 'echo', {}, ctx))
          .server,
      ).toBe('two');
    }
  });

  it('delivers a cast once, and a fanout cast to every server', async () => {
    await client.cast({ topic: 'dragon-test' }, 'record', { kind: 'cast' }, ctx);
    await client.cast({ topic: 'dragon-test', fanout: true }, 'record', { kind: 'fanout' }, ctx);
    const deadline = Date.now() + 10_000;
    const lines = () =>
      existsSync(record)
        ? readFileSync(record, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [];
    while (lines().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const kinds = lines()
      .map((l: { kind: string }) => l.kind)
      .sort();
    expect(kinds).toEqual(['cast', 'fanout', 'fanout']);
  });

  it('turns an exception in the remote handler into a RemoteError with its message', async () => {
    await expect(client.call({ topic: 'dragon-test' }, 'fail', {}, ctx)).rejects.toThrow(RemoteError);
    await expect(client.call({ topic: 'dragon-test' }, 'fail', {}, ctx)).rejects.toThrow(/failed on purpose/);
    await expect(client.call({ topic: 'dragon-test' }, 'no_such_method', {}, ctx)).rejects.toThrow(
      /unsupported RPC method/,
    );
  });

  it('times out a call nobody answers', async () => {
    await expect(client.call({ topic: 'dragon-nobody' }, 'echo', {}, ctx, 500)).rejects.toThrow(
      RpcTimeoutError,
    );
  });

  it('puts the oslo.messaging envelope on the wire: persistent, oslo.version 2.0, method, args and _context_ keys', async () => {
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, 'dragon', 'dragon-spy');
    await client.cast({ topic: 'dragon-spy' }, 'run_execution', { execution_id: 'e1' }, ctx);
    let msg: amqp.GetMessage | false = false;
    for (let i = 0; i < 100 && !msg; i++) {
      msg = await ch.get(q.queue, { noAck: true });
      if (!msg) await new Promise((r) => setTimeout(r, 20));
    }
    await conn.close();
    expect(msg).not.toBe(false);
    const m = msg as amqp.GetMessage;
    expect(m.properties.deliveryMode).toBe(2);
    const outer = JSON.parse(m.content.toString());
    expect(outer['oslo.version']).toBe('2.0');
    const inner = JSON.parse(outer['oslo.message']);
    expect(inner).toMatchObject({
      method: 'run_execution',
      args: { execution_id: 'e1' },
      _context_request_id: ctx.requestId,
      _context_user_id: 'u1',
      _context_project_id: 'p1',
      _context_roles: ['member'],
    });
  });
});

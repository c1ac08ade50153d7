/**
 * Proves the test infrastructure itself: the private PostgreSQL takes the
 * project's migrations, and the private RabbitMQ carries messages and
 * survives a broker restart with a durable queue.
 */
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { createVhost, startRabbitmqNode } from '../support/rabbit.js';

describe('private PostgreSQL server', () => {
  let database: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = openDatabase({ connection: database.url, statePath: '', maxPoolSize: 2 });
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('is a real PostgreSQL server, not the embedded one', async () => {
    const { rows } = await db.raw<{ rows: Array<{ version: string }> }>('select version()');
    expect(rows[0].version).toMatch(/^PostgreSQL \d+/);
    expect(database.url).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/dragon_test_/);
  });

  it('runs the project migrations in a fresh database and creates the tables', async () => {
    const applied = await syncSchema(db);
    expect(applied.length).toBeGreaterThan(0);
    const tables = await db('information_schema.tables')
      .where({ table_schema: 'public' })
      .pluck<string[]>('table_name');
    expect(tables).toEqual(
      expect.arrayContaining(['policies', 'policy_resources', 'executions', 'execution_steps', 'services']),
    );
  });

  it('gives each test file a database of its own', async () => {
    const other = await createTestDatabase();
    const otherDb = openDatabase({ connection: other.url, statePath: '', maxPoolSize: 1 });
    try {
      const tables = await otherDb('information_schema.tables')
        .where({ table_schema: 'public' })
        .pluck('table_name');
      expect(tables).toEqual([]);
    } finally {
      await otherDb.destroy();
      await other.drop();
    }
  });
});

async function connect(url: string): Promise<ChannelModel> {
  const connection = await amqp.connect(url);
  // A broker stop closes the socket with an error event; without a listener it would crash the worker.
  connection.on('error', () => {});
  return connection;
}

describe('private RabbitMQ server', () => {
  it('carries a message from a publisher to a consumer in a vhost of its own', async () => {
    const vhost = await createVhost();
    const connection = await connect(vhost.url);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      const received = new Promise<string>((resolve) => {
        void channel.consume(queue, (message) => {
          if (message) {
            channel.ack(message);
            resolve(message.content.toString());
          }
        });
      });
      channel.sendToQueue(queue, Buffer.from('hello dragon'));
      expect(await received).toBe('hello dragon');
    } finally {
      await connection.close();
      await vhost.delete();
    }
  });

  it('keeps a durable queue and persistent message across stop_app/start_app, and clients reconnect', async () => {
    // A node of its own: restarting the shared node would cut other test files off.
    const node = await startRabbitmqNode();
    try {
      const first = await connect(node.url());
      const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
      const channel = await first.createChannel();
      channel.on('error', () => {});
      await channel.assertQueue('dragon-test-durable', { durable: true });
      channel.sendToQueue('dragon-test-durable', Buffer.from('survives restart'), { persistent: true });
      await channel.close();

      await node.stopApp();
      await closed; // the client notices the broker going away
      await expect(connect(node.url())).rejects.toThrow();

      await node.startApp();
      const second = await connect(node.url());
      try {
        const again = await second.createChannel();
        const message = await again.get('dragon-test-durable', { noAck: true });
        expect(message ? message.content.toString() : null).toBe('survives restart');
      } finally {
        await second.close();
      }
    } finally {
      await node.stop();
    }
  });
});

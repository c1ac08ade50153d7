/**
 * Checkpoint notifications on a real RabbitMQ (a vhost of this file's own):
 * a consumer bound to `notifications.#` on Dragon's topic exchange — the way
 * Ceilometer or an audit service listens — sees
 * dragon.checkpoint.create.start and .end for a protect that succeeds, and
 * .start and .error (priority ERROR, naming the failure) for one that fails,
 * each in the oslo notification format inside the oslo.messaging envelope.
 */
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitTransport } from '../../services/common/rpc/rabbit.js';
import { EXCHANGE } from '../../services/common/rpc/types.js';
import { type Body, type ProtectStack, startProtectStack } from '../support/protect-stack.js';
import { createVhost } from '../support/rabbit.js';
import { buildThreeTier, type ThreeTier } from '../support/three-tier.js';

let vhost: Awaited<ReturnType<typeof createVhost>>;
let stack: ProtectStack;
let workload: ThreeTier;
let listener: ChannelModel;
let channel: Channel;
const received: Array<{ routingKey: string; outer: Record<string, unknown>; message: Body }> = [];

beforeAll(async () => {
  vhost = await createVhost();
  // Bind before anything is published: notifications are not kept for late listeners.
  listener = await amqp.connect(vhost.url);
  channel = await listener.createChannel();
  await channel.assertExchange(EXCHANGE, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, EXCHANGE, 'notifications.#');
  await channel.consume(
    queue,
    (m) => {
      if (!m) return;
      const outer = JSON.parse(m.content.toString('utf8'));
      received.push({ routingKey: m.fields.routingKey, outer, message: JSON.parse(outer['oslo.message']) });
    },
    { noAck: true },
  );
  const transport = new RabbitTransport({ url: vhost.url });
  await transport.connect();
  stack = await startProtectStack({ transport, engineHost: 'notify-engine' });
  workload = await buildThreeTier(stack.primary.clients);
}, 240_000);

afterAll(async () => {
  await listener?.close().catch(() => undefined);
  await stack?.close();
  await vhost?.delete();
});

async function eventsOf(checkpointId: string, count: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mine = received.filter((r) => r.message.payload?.checkpoint_id === checkpointId);
    if (mine.length >= count || Date.now() > deadline) return mine;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('checkpoint notifications', () => {
  it('announces the start and the end of a protect that succeeds', async () => {
    const policyId = await stack.policy('notify-ok', [
      {
        resource_id: workload.volumes.data.id,
        resource_type: 'OS::Cinder::Volume',
        action: 'volume-snapshot',
        options: { method: 'image' },
      },
    ]);
    const protect = await stack.call('POST', `/v1/policies/${policyId}/protect`);
    expect(protect.status).toBe(202);
    const checkpointId = protect.body.checkpoint.id;
    const execution = await stack.waitExecution(protect.body.execution_id);
    expect(execution.status, execution.error).toBe('succeeded');
    const { body } = await stack.call('GET', `/v1/checkpoints/${checkpointId}`);

    const events = await eventsOf(checkpointId, 2);
    expect(events.map((e) => e.message.event_type)).toEqual([
      'dragon.checkpoint.create.start',
      'dragon.checkpoint.create.end',
    ]);
    for (const e of events) {
      expect(e.routingKey).toBe('notifications.info');
      expect(e.outer['oslo.version']).toBe('2.0');
      expect(e.message).toMatchObject({
        publisher_id: 'dragon-engine.notify-engine',
        priority: 'INFO',
        payload: {
          checkpoint_id: checkpointId,
          policy_id: policyId,
          project_id: stack.cloud.demo.projectId,
          container: body.checkpoint.container,
        },
      });
      expect(e.message.message_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(e.message.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      expect(e.message.payload.error).toBeUndefined();
      // Context travels like oslo's, and never a token.
      expect(e.message._context_project_id).toBe(stack.cloud.demo.projectId);
      expect(JSON.stringify(e.outer)).not.toContain(stack.token);
    }
  });

  it('announces the start and the error of a protect that fails', async () => {
    const volume = await stack.primary.clients.cinder.createVolume({ size: 1, name: 'doomed' });
    const policyId = await stack.policy('notify-fail', [
      {
        resource_id: volume.id,
        resource_type: 'OS::Cinder::Volume',
        action: 'volume-snapshot',
        options: { method: 'image' },
      },
    ]);
    // The volume disappears between being added to the policy and the protect.
    for (let i = 0; i < 100; i++) {
      const v = await stack.primary.clients.cinder.getVolume(volume.id);
      if (v.status === 'available') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await stack.primary.clients.cinder.deleteVolume(volume.id);
    const protect = await stack.call('POST', `/v1/policies/${policyId}/protect`);
    expect(protect.status).toBe(202);
    const checkpointId = protect.body.checkpoint.id;
    const execution = await stack.waitExecution(protect.body.execution_id);
    expect(execution.status).toBe('failed');

    const events = await eventsOf(checkpointId, 2);
    expect(events.map((e) => e.message.event_type)).toEqual([
      'dragon.checkpoint.create.start',
      'dragon.checkpoint.create.error',
    ]);
    const [start, error] = events;
    expect(start.routingKey).toBe('notifications.info');
    expect(error.routingKey).toBe('notifications.error');
    expect(error.message.priority).toBe('ERROR');
    expect(error.message.payload).toMatchObject({ checkpoint_id: checkpointId, policy_id: policyId });
    expect(error.message.payload.error).toEqual(expect.any(String));
    expect(error.message.payload.error.length).toBeGreaterThan(0);
  });
});

/**
 * Protection when things go wrong, against the two-region simulator with the
 * whole stack (API, engine, PostgreSQL): the primary's APIs answering 503 in
 * bursts (retried, the protect succeeds), the bank failing while the
 * checkpoint is written (failed, never available, no manifest, nothing left
 * at the primary), a cancel midway (checkpoint and container gone, nothing
 * left at the primary), and an engine killed with -9 mid-protect whose work
 * another engine takes over to a complete, verified checkpoint.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DragonProcess, startDragonProcess } from '../support/dragon-process.js';
import { type ProtectStack, startProtectStack } from '../support/protect-stack.js';
import { buildThreeTier, type ThreeTier } from '../support/three-tier.js';

let stack: ProtectStack;
let workload: ThreeTier;
let policyId: string;

beforeAll(async () => {
  stack = await startProtectStack();
  workload = await buildThreeTier(stack.primary.clients);
  // A smaller workload than protect-e2e: one server copied as an image, one volume through an image.
  policyId = await stack.policy('faults', [
    { resource_id: workload.servers.web.id, resource_type: 'OS::Nova::Server', action: 'image-copy' },
    {
      // The 1 GB volume: the bytes go through the bank, so the smaller one keeps the file quick.
      resource_id: workload.volumes.data.id,
      resource_type: 'OS::Cinder::Volume',
      action: 'volume-snapshot',
      options: { method: 'image' },
    },
  ]);
}, 240_000);

afterEach(() => {
  stack.cloud.faults.RegionOne.clear();
  stack.cloud.faults.RegionTwo.clear();
});

afterAll(async () => {
  await stack?.close();
});

/** What a protect may create at the primary for a while: none of it may stay. */
async function primaryTemporaries() {
  const { glance, cinder } = stack.primary.clients;
  return {
    images: (await glance.listImages({})).map((i) => i.id).sort(),
    snapshots: (await cinder.listSnapshots()).map((s) => s.id).sort(),
    volumes: (await cinder.listVolumes()).map((v) => v.id).sort(),
  };
}

async function startProtect(): Promise<{ checkpointId: string; executionId: string }> {
  const r = await stack.call('POST', `/v1/policies/${policyId}/protect`);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return { checkpointId: r.body.checkpoint.id, executionId: r.body.execution_id };
}

/** Waits until some step of the execution runs (and, optionally, the checkpoint has its container). */
async function untilRunning(executionId: string, checkpointId: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const running = await stack.db('execution_steps').where({ execution_id: executionId, status: 'running' });
    const cp = await stack.db('checkpoints').where({ id: checkpointId }).first();
    if (running.length > 0 && cp?.container) return cp.container as string;
    if (Date.now() > deadline) throw new Error(`execution ${executionId} never started a step`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('faults during a protect', () => {
  it('retries through bursts of 503 from the primary and still writes an available checkpoint', async () => {
    stack.cloud.faults.RegionOne.set('image', { errorBurst: 3 });
    stack.cloud.faults.RegionOne.set('volumev3', { errorBurst: 3 });
    const { checkpointId, executionId } = await startProtect();
    const execution = await stack.waitExecution(executionId);
    expect(execution.error).toBeNull();
    expect(execution.status).toBe('succeeded');
    // The bursts were really served (so the retries really happened).
    expect(stack.cloud.faults.RegionOne.services.get('image')?.errorBurst).toBe(0);
    expect(stack.cloud.faults.RegionOne.services.get('volumev3')?.errorBurst).toBe(0);
    const { body } = await stack.call('GET', `/v1/checkpoints/${checkpointId}`);
    expect(body.checkpoint.status).toBe('available');
  });

  it('fails the protect when the bank fails mid-write: never available, no manifest, nothing left at the primary', async () => {
    const before = await primaryTemporaries();
    const { checkpointId, executionId } = await startProtect();
    const container = await untilRunning(executionId, checkpointId);
    stack.cloud.faults.RegionTwo.set('object-store', { errorRate: 1, methods: ['PUT'] });
    const execution = await stack.waitExecution(executionId);
    expect(execution.status).toBe('failed');
    // The error names the step and the object the bank could not take.
    expect(execution.error).toMatch(/step \S+ .*failed/);
    expect(execution.error).toMatch(/writing object \S+ into checkpoint/);
    const { body } = await stack.call('GET', `/v1/checkpoints/${checkpointId}`);
    expect(body.checkpoint.status).toBe('error');
    stack.cloud.faults.RegionTwo.clear();
    const objects = (await stack.backup.clients.swift.listObjects(container)).map((o) => o.name);
    expect(objects).not.toContain('manifest.json');
    expect(await primaryTemporaries()).toEqual(before);
  });

  it('cancels a protect midway: the checkpoint and its container go, nothing is left at the primary', async () => {
    const before = await primaryTemporaries();
    stack.cloud.faults.RegionOne.set('image', { latencyMs: 300 });
    const { checkpointId, executionId } = await startProtect();
    const container = await untilRunning(executionId, checkpointId);
    // Midway: once the protect has made something temporary at the primary.
    const deadline = Date.now() + 30_000;
    while (JSON.stringify(await primaryTemporaries()) === JSON.stringify(before)) {
      if (Date.now() > deadline) throw new Error('the protect made nothing at the primary');
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancel = await stack.call('POST', `/v1/executions/${executionId}/cancel`);
    expect(cancel.status).toBe(202);
    const execution = await stack.waitExecution(executionId);
    expect(execution.status).toBe('cancelled');
    expect((await stack.call('GET', `/v1/checkpoints/${checkpointId}`)).status).toBe(404);
    expect((await stack.db('checkpoints').where({ id: checkpointId }).first()).status).toBe('deleted');
    expect(await stack.backup.clients.swift.containerInfo(container)).toBeUndefined();
    stack.cloud.faults.RegionOne.clear();
    expect(await primaryTemporaries()).toEqual(before);
  });
});

describe('an engine killed mid-protect', () => {
  const engines: DragonProcess[] = [];

  afterAll(async () => {
    for (const e of engines) await e.stop().catch(() => undefined);
  });

  function engineProcess(host: string): DragonProcess {
    const e = startDragonProcess(
      'services/engine/main.ts',
      {
        DRAGON_DATABASE__CONNECTION: stack.testDb.url,
        DRAGON_DEFAULT__HOST: host,
        DRAGON_ENGINE__HEARTBEAT_INTERVAL: '1',
        DRAGON_ENGINE__TAKEOVER_AFTER: '3',
        DRAGON_ENGINE__SWEEP_INTERVAL: '1',
        // The scheduler is not under test here.
        DRAGON_ENGINE__SCHEDULE_INTERVAL: '3600',
      },
      ['--config-file', stack.confPath],
    );
    engines.push(e);
    return e;
  }

  it('is taken over by another engine to one complete, available checkpoint whose objects all verify', async () => {
    // Only the child engines run this protect.
    await stack.engine?.stop();
    const before = await primaryTemporaries();
    const first = engineProcess('engine-doomed');
    await first.waitFor(/engine started/);
    stack.cloud.faults.RegionOne.set('image', { latencyMs: 300 });
    const { checkpointId, executionId } = await startProtect();
    await untilRunning(executionId, checkpointId);
    const claimed = await stack.db('executions').where({ id: executionId }).first();
    expect(claimed.claimed_by).toBe('engine-doomed');
    first.kill9();

    const second = engineProcess('engine-rescuer');
    await second.waitFor(/engine started/);
    stack.cloud.faults.RegionOne.clear();
    const execution = await stack.waitExecution(executionId, 180_000);
    expect(execution.error).toBeNull();
    expect(execution.status).toBe('succeeded');
    expect((await stack.db('executions').where({ id: executionId }).first()).claimed_by).toBe(
      'engine-rescuer',
    );

    const { body } = await stack.call('GET', `/v1/checkpoints/${checkpointId}`);
    expect(body.checkpoint.status).toBe('available');
    // One checkpoint for the run, in one container.
    const forRun = await stack.db('checkpoints').where({ execution_id: executionId });
    expect(forRun).toHaveLength(1);
    const verify = await stack.call('POST', `/v1/checkpoints/${checkpointId}/verify`);
    expect(verify.status).toBe(202);
    const verified = await stack.waitExecution(verify.body.execution_id);
    expect(verified.error).toBeNull();
    expect(verified.status).toBe('succeeded');
    // What the killed engine had made at the primary was swept by the one that took over.
    expect(await primaryTemporaries()).toEqual(before);
  });
});

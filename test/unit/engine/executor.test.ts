import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { internalContext } from '../../../services/common/context.js';
import { InProcessTransport } from '../../../services/common/rpc/inprocess.js';
import { announceExecution, Engine } from '../../../services/engine/service.js';
import { createExecution, getSteps } from '../../../services/engine/store.js';
import {
  embeddedTestDatabase,
  engineSettings,
  maxConcurrency,
  readJournal,
  sleeperStep,
  tempJournal,
  waitForStatus,
} from '../../support/engine-fixtures.js';

let db: Knex;
let transport: InProcessTransport;
let engine: Engine | undefined;

beforeAll(async () => {
  db = await embeddedTestDatabase();
});
afterAll(async () => {
  await db.destroy();
});
afterEach(async () => {
  await engine?.stop();
  await transport?.close();
  engine = undefined;
});

async function startEngine(overrides = {}) {
  transport = new InProcessTransport();
  engine = new Engine(db, transport, engineSettings(overrides));
  await engine.start();
  return engine;
}

describe('execution engine', () => {
  it('runs independent steps in parallel but never more than max_parallel_steps', async () => {
    await startEngine({ maxParallelSteps: 2 });
    const journal = tempJournal();
    const steps = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => sleeperStep(n, { sleep_ms: 150, journal }));
    const ex = await createExecution(db, { kind: 'protect', project_id: 'p1', steps });
    await announceExecution(transport, ex.id);
    const done = await waitForStatus(db, ex.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(done.progress).toBe(100);
    const lines = readJournal(journal);
    expect(lines.filter((l) => l.event === 'finish')).toHaveLength(6);
    expect(maxConcurrency(lines)).toBe(2);
  });

  it('runs a step only after the steps it depends on succeeded', async () => {
    await startEngine({ maxParallelSteps: 8 });
    const journal = tempJournal();
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [
        sleeperStep('server', { sleep_ms: 20, journal }, ['vol1', 'vol2']),
        sleeperStep('vol1', { sleep_ms: 120, journal }),
        sleeperStep('vol2', { sleep_ms: 60, journal }),
      ],
    });
    await announceExecution(transport, ex.id);
    expect((await waitForStatus(db, ex.id, ['succeeded', 'failed'])).status).toBe('succeeded');
    const lines = readJournal(journal);
    const at = (step: string, event: string) => lines.find((l) => l.step === step && l.event === event)!.t;
    expect(at('server', 'start')).toBeGreaterThanOrEqual(at('vol1', 'finish'));
    expect(at('server', 'start')).toBeGreaterThanOrEqual(at('vol2', 'finish'));
    // vol1 and vol2 overlapped: independent steps ran in parallel.
    expect(at('vol2', 'start')).toBeLessThan(at('vol1', 'finish'));
    const server = (await getSteps(db, ex.id)).find((s) => s.name === 'server')!;
    expect((server.result as { deps: string[] }).deps.sort()).toEqual(['vol1', 'vol2']);
  });

  it('retries a step that fails with a transient error and records the attempts', async () => {
    await startEngine();
    const journal = tempJournal();
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [sleeperStep('flaky', { sleep_ms: 10, journal, fail: 'transient', fail_times: 2 })],
    });
    await announceExecution(transport, ex.id);
    expect((await waitForStatus(db, ex.id, ['succeeded', 'failed'])).status).toBe('succeeded');
    const [step] = await getSteps(db, ex.id);
    expect(step.attempts).toBe(3);
    expect(step.status).toBe('succeeded');
  });

  it('fails the execution naming the failed step and skips the steps that depended on it', async () => {
    await startEngine();
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [
        sleeperStep('vol', { sleep_ms: 10, fail: 'always' }),
        sleeperStep('server', { sleep_ms: 10 }, ['vol']),
      ],
    });
    await announceExecution(transport, ex.id);
    const done = await waitForStatus(db, ex.id, ['succeeded', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(
      /step vol \(test-sleeper on Dragon::Test::Sleeper res-vol\) failed: test failure requested/,
    );
    const steps = await getSteps(db, ex.id);
    expect(steps.find((s) => s.name === 'vol')?.status).toBe('failed');
    expect(steps.find((s) => s.name === 'server')?.status).toBe('skipped');
  });

  it('cancels a running execution through RPC: running steps are aborted, nothing more starts', async () => {
    await startEngine({ maxParallelSteps: 1 });
    const journal = tempJournal();
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [
        sleeperStep('long', { sleep_ms: 5000, journal }),
        sleeperStep('next', { sleep_ms: 10, journal }, ['long']),
      ],
    });
    await announceExecution(transport, ex.id);
    await waitForStatus(db, ex.id, ['running']);
    await new Promise((r) => setTimeout(r, 300));
    await db('executions').where({ id: ex.id }).update({ cancel_requested: true, status: 'cancelling' });
    await transport.cast(
      { topic: 'dragon-engine', fanout: true },
      'cancel_execution',
      { execution_id: ex.id },
      internalContext('req-test'),
    );
    const done = await waitForStatus(db, ex.id, ['cancelled', 'succeeded', 'failed'], 3000);
    expect(done.status).toBe('cancelled');
    const steps = await getSteps(db, ex.id);
    expect(steps.map((s) => s.status).sort()).toEqual(['cancelled', 'cancelled']);
    const lines = readJournal(journal);
    expect(lines.map((l) => `${l.step}:${l.event}`)).toEqual(['long:start', 'long:aborted']);
  });

  it('notices a cancel request written to the database without any RPC (heartbeat poll)', async () => {
    await startEngine();
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [sleeperStep('long', { sleep_ms: 5000 })],
    });
    await announceExecution(transport, ex.id);
    await waitForStatus(db, ex.id, ['running']);
    await db('executions').where({ id: ex.id }).update({ cancel_requested: true, status: 'cancelling' });
    expect((await waitForStatus(db, ex.id, ['cancelled', 'succeeded', 'failed'], 3000)).status).toBe(
      'cancelled',
    );
  });

  it('finds a pending execution nobody announced through its sweep', async () => {
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [sleeperStep('s', { sleep_ms: 10 })],
    });
    await startEngine();
    expect((await waitForStatus(db, ex.id, ['succeeded', 'failed'])).status).toBe('succeeded');
  });

  it('keeps sweeping after being at capacity: queued executions all run on a one-execution engine', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (
          await createExecution(db, {
            kind: 'protect',
            project_id: 'p1',
            steps: [sleeperStep('s', { sleep_ms: 300 })],
          })
        ).id,
      );
    }
    await startEngine({ maxExecutions: 1, sweepIntervalMs: 50 });
    for (const id of ids)
      expect((await waitForStatus(db, id, ['succeeded', 'failed'], 10_000)).status).toBe('succeeded');
  });

  it('refuses a step graph with a cycle or an unknown dependency', async () => {
    await expect(
      createExecution(db, {
        kind: 'protect',
        project_id: 'p1',
        steps: [sleeperStep('a', {}, ['b']), sleeperStep('b', {}, ['a'])],
      }),
    ).rejects.toThrow(/cycle/);
    await expect(
      createExecution(db, { kind: 'protect', project_id: 'p1', steps: [sleeperStep('a', {}, ['ghost'])] }),
    ).rejects.toThrow(/unknown step ghost/);
  });

  it('fails a step whose action is not loaded, naming the action and the engine', async () => {
    await startEngine();
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [
        { name: 'x', action: 'no-such-action', resource_type: 'OS::Nova::Server', resource_id: 'srv-1' },
      ],
    });
    await announceExecution(transport, ex.id);
    const done = await waitForStatus(db, ex.id, ['succeeded', 'failed']);
    expect(done.error).toMatch(/action no-such-action is not loaded on engine engine-test/);
  });

  it('hands running executions back on shutdown so another engine continues them at once', async () => {
    await startEngine({ maxParallelSteps: 1 });
    const journal = tempJournal();
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [
        sleeperStep('one', { sleep_ms: 50, journal }),
        sleeperStep('two', { sleep_ms: 3000, journal }, ['one']),
      ],
    });
    await announceExecution(transport, ex.id);
    const deadline = Date.now() + 5000;
    while (
      !readJournal(journal).some((l) => l.step === 'two' && l.event === 'start') &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await engine!.stop();
    engine = undefined;
    const row = await db('executions').where({ id: ex.id }).first();
    expect(row.status).toBe('pending');
    expect(row.claimed_by).toBeNull();
    await startEngine({ host: 'engine-two' });
    expect((await waitForStatus(db, ex.id, ['succeeded', 'failed'])).status).toBe('succeeded');
    const lines = readJournal(journal);
    // 'one' finished before the shutdown and is not run again; 'two' ran again from the start.
    expect(lines.filter((l) => l.step === 'one' && l.event === 'start')).toHaveLength(1);
    expect(lines.filter((l) => l.step === 'two' && l.event === 'finish')).toHaveLength(1);
  });
});

/**
 * What the executor does with a graph beyond "dependencies first": a kind
 * narrowing the graph once it sees the cloud, priorities among ready steps,
 * and steps started and finished together written by one statement each
 * while keeping every write fenced by the claim.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InProcessTransport } from '../../../services/common/rpc/inprocess.js';
import type { ExecutionKindHooks } from '../../../services/engine/executor.js';
import { announceExecution, Engine } from '../../../services/engine/service.js';
import {
  ClaimedExecution,
  ClaimLostError,
  createExecution,
  getSteps,
} from '../../../services/engine/store.js';
import {
  embeddedTestDatabase,
  engineSettings,
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

async function startEngine(overrides = {}, kinds: Record<string, ExecutionKindHooks> = {}) {
  transport = new InProcessTransport();
  engine = new Engine(db, transport, engineSettings(overrides), kinds);
  await engine.start();
  return engine;
}

describe('executor scheduling', () => {
  it('lets a kind drop dependencies it found unneeded, but never add one', async () => {
    const kinds: Record<string, ExecutionKindHooks> = {
      protect: {
        prepare: async () => ({
          context: {},
          // 'late' is not in the plan: asking for it must not make the step wait for it.
          narrowDependencies: { server: ['vol2', 'late'] },
        }),
      },
    };
    await startEngine({ maxParallelSteps: 8 }, kinds);
    const journal = tempJournal();
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [
        sleeperStep('server', { sleep_ms: 20, journal }, ['vol1', 'vol2']),
        sleeperStep('vol1', { sleep_ms: 600, journal }),
        sleeperStep('vol2', { sleep_ms: 30, journal }),
        sleeperStep('late', { sleep_ms: 600, journal }),
      ],
    });
    await announceExecution(transport, ex.id);
    expect((await waitForStatus(db, ex.id, ['succeeded', 'failed'])).status).toBe('succeeded');
    const lines = readJournal(journal);
    const at = (step: string, event: string) => lines.find((l) => l.step === step && l.event === event)!.t;
    expect(at('server', 'start')).toBeGreaterThanOrEqual(at('vol2', 'finish'));
    expect(at('server', 'finish')).toBeLessThan(at('vol1', 'finish'));
    expect(at('server', 'finish')).toBeLessThan(at('late', 'finish'));
    const server = (await getSteps(db, ex.id)).find((s) => s.name === 'server')!;
    // Recorded, so the API shows the graph that ran.
    expect(server.depends_on).toEqual(['vol2']);
    expect((server.result as { deps: string[] }).deps).toEqual(['vol2']);
  });

  it('starts a ready step of higher priority before the others', async () => {
    await startEngine({ maxParallelSteps: 1 });
    const journal = tempJournal();
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [
        sleeperStep('a', { sleep_ms: 10, journal }),
        sleeperStep('b', { sleep_ms: 10, journal }),
        sleeperStep('z-long', { sleep_ms: 10, journal, priority: 1 }),
      ],
    });
    await announceExecution(transport, ex.id);
    expect((await waitForStatus(db, ex.id, ['succeeded', 'failed'])).status).toBe('succeeded');
    const starts = readJournal(journal)
      .filter((l) => l.event === 'start')
      .map((l) => l.step);
    expect(starts).toEqual(['z-long', 'a', 'b']);
  });

  it('records many steps that start and end together, each with its own attempt, result and times', async () => {
    await startEngine({ maxParallelSteps: 40 });
    const names = Array.from({ length: 40 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: names.map((n) => sleeperStep(n, { sleep_ms: 20 })),
    });
    await announceExecution(transport, ex.id);
    expect((await waitForStatus(db, ex.id, ['succeeded', 'failed'])).status).toBe('succeeded');
    const steps = await getSteps(db, ex.id);
    for (const s of steps) {
      expect(s).toMatchObject({ status: 'succeeded', attempts: 1, progress: 100 });
      expect((s.result as { step: string }).step).toBe(s.name);
      expect(new Date(s.finished_at!).getTime()).toBeGreaterThanOrEqual(new Date(s.started_at!).getTime());
    }
  });

  it('refuses batched writes from an engine whose claim was taken over', async () => {
    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: 'p1',
      steps: [sleeperStep('one', {}), sleeperStep('two', {})],
    });
    await db('executions').where({ id: ex.id }).update({ claim_token: randomUUID(), status: 'running' });
    const [one, two] = await getSteps(db, ex.id);
    const stale = new ClaimedExecution(db, ex.id, randomUUID());
    const results = await Promise.allSettled([
      stale.startStep(one.id, 'old'),
      stale.startStep(two.id, 'old'),
    ]);
    for (const r of results) expect(r.status === 'rejected' && r.reason instanceof ClaimLostError).toBe(true);
    await expect(stale.succeedStep(one.id, { x: 1 })).rejects.toBeInstanceOf(ClaimLostError);
    await expect(stale.setDependencies(new Map([[two.id, []]]))).rejects.toBeInstanceOf(ClaimLostError);
    expect((await getSteps(db, ex.id)).map((s) => [s.status, s.attempts])).toEqual([
      ['pending', 0],
      ['pending', 0],
    ]);
  });
});

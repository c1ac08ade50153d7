/**
 * The execution machinery against a real PostgreSQL and RabbitMQ: a killed
 * engine's execution is taken over without redoing finished steps, racing
 * engines never both claim one execution, a broker restart mid-run loses
 * nothing, and work submitted while the bus is down is found by the sweep.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { RabbitTransport } from '../../services/common/rpc/rabbit.js';
import { announceExecution, Engine } from '../../services/engine/service.js';
import { claimExecution, createExecution } from '../../services/engine/store.js';
import { type DragonProcess, engineEnv, startDragonProcess } from '../support/dragon-process.js';
import {
  engineSettings,
  readJournal,
  sleeperStep,
  tempJournal,
  waitForStatus,
} from '../support/engine-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { createVhost, startRabbitmqNode } from '../support/rabbit.js';

let testDb: TestDatabase;
let db: Knex;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = openDatabase({ connection: testDb.url, statePath: '', maxPoolSize: 5 });
  await syncSchema(db);
});

afterAll(async () => {
  await db?.destroy();
  await testDb?.drop();
});

function chain(names: string[], params: Record<string, unknown>) {
  return names.map((n, i) => sleeperStep(n, params, i === 0 ? [] : [names[i - 1]]));
}

async function waitForJournal(
  journal: string,
  pred: (lines: ReturnType<typeof readJournal>) => boolean,
  ms = 30_000,
) {
  const deadline = Date.now() + ms;
  while (!pred(readJournal(journal))) {
    if (Date.now() > deadline)
      throw new Error(`journal condition not met: ${JSON.stringify(readJournal(journal))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An engine process with the generic machinery and no execution kinds (the steps run bare). */
const BARE_ENGINE = 'test/support/bare-engine-main.ts';

describe('engine crash takeover (kill -9)', () => {
  it('continues a killed engine execution on another engine without redoing finished steps', async () => {
    const vhost = await createVhost();
    const journal = tempJournal();
    const engineA = startDragonProcess(BARE_ENGINE, engineEnv(testDb.url, vhost.url, 'engine-a'));
    let engineB: DragonProcess | undefined;
    const api = new RabbitTransport({ url: vhost.url });
    try {
      await engineA.waitFor(/engine started/);
      await api.connect();
      // The engine processes run the bare machinery (test/support/bare-engine-main.ts): no kind hooks.
      const ex = await createExecution(db, {
        kind: 'recover',
        project_id: 'p1',
        steps: chain(['s1', 's2', 's3', 's4'], { sleep_ms: 800, journal }),
      });
      expect(await announceExecution(api, ex.id)).toBe(true);
      // Kill engine A while s3 runs: s1 and s2 are finished, s3 is half done.
      await waitForJournal(journal, (l) => l.some((x) => x.step === 's3' && x.event === 'start'));
      engineA.kill9();
      const killedAt = Date.now();
      engineB = startDragonProcess(BARE_ENGINE, engineEnv(testDb.url, vhost.url, 'engine-b'));
      const done = await waitForStatus(db, ex.id, ['succeeded', 'failed'], 60_000);
      expect(done.status).toBe('succeeded');
      expect(done.claimed_by).toBe('engine-b');
      // Not taken over before the claim expired (takeover_after = 3 s).
      const lines = readJournal(journal);
      const bPid = engineB.child.pid;
      const firstByB = lines.find((l) => l.pid === bPid)!;
      expect(firstByB.t - killedAt).toBeGreaterThanOrEqual(2000);
      for (const s of ['s1', 's2', 's3', 's4']) {
        expect(
          lines.filter((l) => l.step === s && l.event === 'finish'),
          `${s} finished once`,
        ).toHaveLength(1);
      }
      // Finished steps were not started again by engine B; the interrupted one was.
      expect(lines.filter((l) => l.pid === bPid && (l.step === 's1' || l.step === 's2'))).toHaveLength(0);
      expect(lines.filter((l) => l.step === 's3' && l.event === 'start').map((l) => l.pid === bPid)).toEqual([
        false,
        true,
      ]);
      const s3 = await db('execution_steps').where({ execution_id: ex.id, name: 's3' }).first();
      expect(s3.attempts).toBe(2);
    } finally {
      engineA.kill9();
      await engineB?.stop();
      await api.close();
      await vhost.delete();
    }
  });
});

describe('racing engines', () => {
  it('lets exactly one of two engines claim an execution', async () => {
    const other = openDatabase({ connection: testDb.url, statePath: '', maxPoolSize: 5 });
    try {
      for (let round = 0; round < 15; round++) {
        const ex = await createExecution(db, { kind: 'protect', project_id: 'race', steps: [] });
        const claims = await Promise.all([
          claimExecution(db, 'engine-x', 30, ex.id),
          claimExecution(other, 'engine-y', 30, ex.id),
          claimExecution(db, 'engine-x', 30, ex.id),
          claimExecution(other, 'engine-y', 30, ex.id),
        ]);
        expect(claims.filter(Boolean)).toHaveLength(1);
        await db('executions').where({ id: ex.id }).update({ status: 'succeeded', claim_token: null });
      }
    } finally {
      await other.destroy();
    }
  });

  it('runs every one of many executions exactly once with two engines sweeping the same database', async () => {
    const dbA = openDatabase({ connection: testDb.url, statePath: '', maxPoolSize: 4 });
    const dbB = openDatabase({ connection: testDb.url, statePath: '', maxPoolSize: 4 });
    const journal = tempJournal();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(
        (
          await createExecution(db, {
            kind: 'protect',
            project_id: 'many',
            steps: [sleeperStep(`x${i}`, { sleep_ms: 50, journal })],
          })
        ).id,
      );
    }
    const { InProcessTransport } = await import('../../services/common/rpc/inprocess.js');
    const a = new Engine(
      dbA,
      new InProcessTransport(),
      engineSettings({ host: 'sweeper-a', sweepIntervalMs: 100 }),
    );
    const b = new Engine(
      dbB,
      new InProcessTransport(),
      engineSettings({ host: 'sweeper-b', sweepIntervalMs: 100 }),
    );
    try {
      await Promise.all([a.start(), b.start()]);
      for (const id of ids)
        expect((await waitForStatus(db, id, ['succeeded', 'failed'])).status).toBe('succeeded');
      const rows = await db('executions').whereIn('id', ids);
      expect(rows.every((r) => r.claims === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.claimed_by))).toEqual(new Set(['sweeper-a', 'sweeper-b']));
      const starts = readJournal(journal).filter((l) => l.event === 'start');
      expect(starts).toHaveLength(12);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await Promise.all([dbA.destroy(), dbB.destroy()]);
    }
  });
});

describe('message bus outages', () => {
  let node: Awaited<ReturnType<typeof startRabbitmqNode>>;
  let engine: DragonProcess;
  let api: RabbitTransport;

  beforeAll(async () => {
    node = await startRabbitmqNode();
    engine = startDragonProcess(BARE_ENGINE, {
      ...engineEnv(testDb.url, node.url(), `engine-bus-${randomUUID().slice(0, 8)}`),
      // A long sweep interval: the work must arrive through RabbitMQ, not the sweep.
      DRAGON_ENGINE__SWEEP_INTERVAL: '3600',
    });
    await engine.waitFor(/engine started/);
    api = new RabbitTransport({ url: node.url(), connectWaitMs: 2000 });
    await api.connect();
  });

  afterAll(async () => {
    await api?.close();
    await engine?.stop();
    await node?.stop();
  });

  it('completes an execution exactly once when RabbitMQ restarts mid-run, and keeps taking work after', async () => {
    const journal = tempJournal();
    const ex = await createExecution(db, {
      kind: 'recover',
      project_id: 'bus',
      steps: chain(['b1', 'b2', 'b3'], { sleep_ms: 600, journal }),
    });
    expect(await announceExecution(api, ex.id)).toBe(true);
    await waitForJournal(journal, (l) => l.some((x) => x.step === 'b1' && x.event === 'start'));
    await node.stopApp();
    await new Promise((r) => setTimeout(r, 1500));
    await node.startApp();
    expect((await waitForStatus(db, ex.id, ['succeeded', 'failed'], 60_000)).status).toBe('succeeded');
    for (const s of ['b1', 'b2', 'b3']) {
      expect(
        readJournal(journal).filter((l) => l.step === s && l.event === 'start'),
        `${s} ran once`,
      ).toHaveLength(1);
    }
    // Both sides reconnected: a new announcement reaches the engine through the broker.
    await engine.waitFor(/connected to the message bus[\s\S]*connected to the message bus/, 30_000);
    const next = await createExecution(db, {
      kind: 'recover',
      project_id: 'bus',
      steps: [sleeperStep('after', { sleep_ms: 10 })],
    });
    const deadline = Date.now() + 20_000;
    while (!(await announceExecution(api, next.id)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 500));
    expect((await waitForStatus(db, next.id, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');
  });

  it('runs an execution submitted while the bus is down: the announcement fails, the sweep finds it', async () => {
    const sweeper = startDragonProcess(BARE_ENGINE, {
      ...engineEnv(testDb.url, node.url(), 'engine-sweeper'),
      DRAGON_ENGINE__SWEEP_INTERVAL: '1',
    });
    try {
      await sweeper.waitFor(/engine started/);
      await node.stopApp();
      const ex = await createExecution(db, {
        kind: 'recover',
        project_id: 'bus',
        steps: [sleeperStep('lonely', { sleep_ms: 10 })],
      });
      expect(await announceExecution(api, ex.id)).toBe(false);
      expect((await waitForStatus(db, ex.id, ['succeeded', 'failed'], 30_000)).status).toBe('succeeded');
    } finally {
      await node.startApp();
      await sweeper.stop();
    }
  });
});

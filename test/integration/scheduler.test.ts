/**
 * The scheduler on real PostgreSQL: when the next run is, which checkpoints
 * retention removes, and the leader election between engines — one leader
 * at a time (advisory lock), a backlog of missed runs fires once, a killed
 * leader is replaced at the next tick, and two engines ticking at once never
 * both start the same run. Protect executions are not run here: the test
 * looks at the rows the scheduler writes.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { getLogger } from '../../services/common/log.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';
import {
  expiredCheckpoints,
  nextRun,
  type Retention,
  type Schedule,
} from '../../services/common/schedule.js';
import { Scheduler } from '../../services/engine/scheduler.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';

const log = getLogger('scheduler-test');
let testDb: TestDatabase;
let admin: Knex;
const transport = new InProcessTransport();

function pool(name: string): Knex {
  const url = new URL(testDb.url);
  url.searchParams.set('application_name', name);
  return openDatabase({ connection: url.toString(), statePath: '/nonexistent', maxPoolSize: 4 });
}

let project = 0;
/** A policy with one resource, so that startProtect accepts it. */
async function policy(fields: {
  schedule?: Schedule;
  retention?: Retention;
  next_run_at?: Date;
}): Promise<string> {
  const id = randomUUID();
  const now = new Date();
  const projectId = `project-${++project}`;
  await admin('policies').insert({
    id,
    project_id: projectId,
    user_id: 'demo',
    name: `p-${id.slice(0, 8)}`,
    backup_site: 'RegionTwo',
    schedule: fields.schedule ? JSON.stringify(fields.schedule) : null,
    retention: fields.retention ? JSON.stringify(fields.retention) : null,
    next_run_at: fields.next_run_at ?? null,
    created_at: now,
    updated_at: now,
  });
  await admin('policy_resources').insert({
    id: randomUUID(),
    policy_id: id,
    project_id: projectId,
    resource_id: randomUUID(),
    resource_type: 'OS::Cinder::Volume',
    action: 'volume-snapshot',
    options: JSON.stringify({ method: 'image' }),
    created_at: now,
    updated_at: now,
  });
  return id;
}

async function checkpoint(policyId: string, createdAt: Date, status = 'available'): Promise<string> {
  const p = await admin('policies').where({ id: policyId }).first();
  const id = randomUUID();
  await admin('checkpoints').insert({
    id,
    policy_id: policyId,
    policy_name: p.name,
    project_id: p.project_id,
    site: 'RegionTwo',
    container: `c-${id.slice(0, 8)}`,
    status,
    created_at: createdAt,
    updated_at: createdAt,
  });
  return id;
}

const protects = (policyId: string) => admin('executions').where({ policy_id: policyId, kind: 'protect' });

beforeAll(async () => {
  testDb = await createTestDatabase();
  admin = pool('admin');
  await syncSchema(admin);
}, 60_000);

afterAll(async () => {
  await admin?.destroy();
  await transport.close();
  await testDb?.drop();
});

describe('next run and retention rules', () => {
  it('runs a cron schedule in its own time zone', () => {
    // 02:00 every day in Paris: 01:00 UTC in winter (CET, UTC+1).
    const s = { cron: '0 2 * * *', timezone: 'Europe/Paris' };
    const next = nextRun(s, new Date('2026-11-26T12:00:00Z'));
    expect(next.toISOString()).toBe('2026-11-27T01:00:00.000Z');
    // In summer (CEST, UTC+2) the same wall-clock time is 00:00 UTC.
    expect(nextRun(s, new Date('2026-07-01T12:00:00Z')).toISOString()).toBe('2026-07-02T00:00:00.000Z');
    // Without a time zone, UTC.
    expect(nextRun({ cron: '0 2 * * *' }, new Date('2026-11-26T12:00:00Z')).toISOString()).toBe(
      '2026-11-27T02:00:00.000Z',
    );
    // Strictly after: a run exactly at `after` is not the next one.
    expect(nextRun({ cron: '0 2 * * *' }, new Date('2026-11-27T02:00:00Z')).toISOString()).toBe(
      '2026-11-28T02:00:00.000Z',
    );
  });

  it('runs an interval schedule one interval after the given time', () => {
    const after = new Date('2026-11-26T12:00:00Z');
    expect(nextRun({ interval_seconds: 3600 }, after).getTime() - after.getTime()).toBe(3_600_000);
  });

  it('keeps the newest available checkpoint whatever retention says', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    const day = 86_400_000;
    const rows = [0, 1, 2, 3].map((i) => ({
      id: `c${i}`,
      created_at: new Date(now.getTime() - i * 10 * day),
    }));
    expect(expiredCheckpoints(rows, { keep_last: 2 }, now).map((c) => c.id)).toEqual(['c2', 'c3']);
    // Everything is older than a day, but the newest stays.
    expect(expiredCheckpoints(rows, { max_age_days: 1 }, now).map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    expect(expiredCheckpoints(rows, { keep_last: 1 }, now).map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    // A lone available checkpoint is never removed, however old.
    expect(expiredCheckpoints(rows.slice(3), { keep_last: 1, max_age_days: 1 }, now)).toEqual([]);
    expect(expiredCheckpoints([], { keep_last: 1 }, now)).toEqual([]);
  });
});

describe('two engines, one leader', () => {
  let dbA: Knex;
  let dbB: Knex;
  let a: Scheduler;
  let b: Scheduler;

  beforeAll(() => {
    dbA = pool('engine-a');
    dbB = pool('engine-b');
    a = new Scheduler(dbA, transport, log, 60_000);
    b = new Scheduler(dbB, transport, log, 60_000);
  });

  afterEach(async () => {
    // Each test starts with no due policy left over.
    await admin('policies').update({ next_run_at: null, schedule: null, retention: null });
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await dbA?.destroy();
    await dbB?.destroy();
  });

  it('lets one engine lead; the other fires nothing', async () => {
    const id = await policy({
      schedule: { interval_seconds: 60 },
      next_run_at: new Date(Date.now() - 1000),
    });
    await a.tick();
    await b.tick();
    expect(a.leading).toBe(true);
    expect(b.leading).toBe(false);
    expect(await protects(id)).toHaveLength(1);
    // The follower keeps firing nothing even when something is due again.
    await admin('policies')
      .where({ id })
      .update({ next_run_at: new Date(Date.now() - 1000) });
    await admin('executions').where({ policy_id: id }).update({ status: 'succeeded' });
    await b.tick();
    expect(await protects(id)).toHaveLength(1);
    await a.tick();
    expect(await protects(id)).toHaveLength(2);
  });

  it('fires a backlog of missed runs once and moves the next run past now', async () => {
    const interval = 60;
    const id = await policy({
      schedule: { interval_seconds: interval },
      next_run_at: new Date(Date.now() - 10 * interval * 1000),
    });
    const before = Date.now();
    await a.tick();
    await a.tick();
    const rows = await protects(id);
    expect(rows).toHaveLength(1);
    expect(rows[0].params.trigger).toBe('schedule');
    const p = await admin('policies').where({ id }).first();
    expect(p.next_run_at.getTime()).toBeGreaterThan(before);
    expect(p.next_run_at.getTime()).toBeLessThanOrEqual(Date.now() + interval * 1000);
    expect(p.last_run_at).not.toBeNull();
    // Its checkpoint is being created.
    expect(await admin('checkpoints').where({ policy_id: id, status: 'creating' })).toHaveLength(1);
  });

  it('hands the lead to the other engine when the leader dies', async () => {
    expect(a.leading).toBe(true);
    // The leader's engine is killed: PostgreSQL loses its connections, and with them the lock.
    await admin.raw(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'engine-a' and datname = ?",
      [testDb.name],
    );
    const id = await policy({
      schedule: { interval_seconds: 60 },
      next_run_at: new Date(Date.now() - 1000),
    });
    // The lock is released once PostgreSQL has ended the backend; the follower's next tick takes it.
    const deadline = Date.now() + 10_000;
    while (!b.leading && Date.now() < deadline) {
      await b.tick();
      if (!b.leading) await new Promise((r) => setTimeout(r, 100));
    }
    expect(b.leading).toBe(true);
    expect(await protects(id)).toHaveLength(1);
    // The old leader, back on a fresh connection, finds the lock taken and follows.
    await a.tick();
    expect(a.leading).toBe(false);
  });

  it('never lets two engines start the same run, even ticking at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        await policy({ schedule: { interval_seconds: 60 }, next_run_at: new Date(Date.now() - 1000) }),
      );
    }
    for (let round = 0; round < 10; round++) {
      // Every due policy is due again, its last protect done.
      await admin('executions').whereIn('policy_id', ids).update({ status: 'succeeded' });
      await admin('policies')
        .whereIn('id', ids)
        .update({ next_run_at: new Date(Date.now() - 1000) });
      await Promise.all([a.tick(), b.tick(), a.fireDue(), b.fireDue()]);
      for (const id of ids) expect(await protects(id)).toHaveLength(round + 1);
    }
  });
});

describe('retention', () => {
  let db: Knex;
  let s: Scheduler;
  beforeAll(() => {
    db = pool('engine-retention');
    s = new Scheduler(db, transport, log, 60_000);
  });
  afterAll(async () => {
    await s?.stop();
    await db?.destroy();
  });

  const deletes = (policyId: string) =>
    admin('executions').where({ policy_id: policyId, kind: 'delete_checkpoint' });

  it('deletes the oldest available checkpoints beyond keep_last', async () => {
    const id = await policy({ retention: { keep_last: 2 } });
    const t = Date.now();
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await checkpoint(id, new Date(t - i * 3_600_000)));
    await s.applyRetention();
    const started = await deletes(id);
    expect(started.map((e) => e.params.checkpoint_id).sort()).toEqual([ids[2], ids[3]].sort());
    const rows = await admin('checkpoints').where({ policy_id: id });
    const status = Object.fromEntries(rows.map((r) => [r.id, r.status]));
    expect(status).toEqual({
      [ids[0]]: 'available',
      [ids[1]]: 'available',
      [ids[2]]: 'deleting',
      [ids[3]]: 'deleting',
    });
    // Applying it again starts nothing new: the deleting ones are no longer available.
    await s.applyRetention();
    expect(await deletes(id)).toHaveLength(2);
  });

  it('keeps the newest available checkpoint when a newer run failed', async () => {
    const id = await policy({ retention: { keep_last: 1, max_age_days: 1 } });
    const t = Date.now();
    const failed = await checkpoint(id, new Date(t), 'error');
    const newestAvailable = await checkpoint(id, new Date(t - 3 * 86_400_000));
    const older = await checkpoint(id, new Date(t - 4 * 86_400_000));
    await s.applyRetention();
    const started = await deletes(id);
    expect(started.map((e) => e.params.checkpoint_id)).toEqual([older]);
    expect((await admin('checkpoints').where({ id: newestAvailable }).first()).status).toBe('available');
    expect((await admin('checkpoints').where({ id: failed }).first()).status).toBe('error');
  });
});

/**
 * A second Dragon for recovery tests: its own empty PostgreSQL database,
 * engine and API, configured for the same sites as the protecting Dragon
 * (the config file is all it shares) — the Dragon at the backup site that
 * has never seen the checkpoints it recovers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { type RunningApi, runApi } from '../../services/api/service.js';
import { loadDragonConfig } from '../../services/common/config/index.js';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';
import { type AssembledEngine, assembleEngine } from '../../services/engine/assemble.js';
import { apiCaller, type Body } from './api-caller.js';
import { createTestDatabase, type TestDatabase } from './pg.js';

export interface FreshDragon {
  db: Knex;
  api: RunningApi;
  engine: AssembledEngine;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }>;
  waitExecution(id: string, timeoutMs?: number): Promise<Body>;
  /** Waits for the recovery's execution, then returns the recovery. */
  waitRecovery(id: string, timeoutMs?: number): Promise<Body>;
  close(): Promise<void>;
}

export async function startFreshDragon(opts: {
  confPath: string;
  token: string;
  maxParallelSteps?: number;
}): Promise<FreshDragon> {
  const testDb: TestDatabase = await createTestDatabase();
  const state = mkdtempSync(join(tmpdir(), 'dragon-recovery-'));
  const conf = loadDragonConfig({
    sources: { configFiles: [opts.confPath], configDirs: [] },
    env: { DRAGON_DATABASE__CONNECTION: testDb.url, DRAGON_DEFAULT__STATE_PATH: state },
  });
  const db = openDatabase({ connection: testDb.url, statePath: state, maxPoolSize: 8 });
  await syncSchema(db);
  const transport = new InProcessTransport();
  const engine = assembleEngine(conf, db, transport, {
    host: 'backup-engine',
    heartbeatIntervalMs: 500,
    sweepIntervalMs: 500,
    ...(opts.maxParallelSteps ? { maxParallelSteps: opts.maxParallelSteps } : {}),
  });
  await engine.start();
  const api = await runApi(conf, db, transport, { listen: { host: '127.0.0.1', port: 0 } });
  const { call, waitExecution } = apiCaller(api.url, opts.token);
  return {
    db,
    api,
    engine,
    call,
    waitExecution,
    async waitRecovery(id, timeoutMs) {
      const { body } = await call('GET', `/v1/recoveries/${id}`);
      await waitExecution(body.recovery.execution_id, timeoutMs);
      return (await call('GET', `/v1/recoveries/${id}`)).body.recovery;
    },
    async close() {
      await api.stop();
      await engine.stop();
      await transport.close();
      await db.destroy();
      await testDb.drop();
    },
  };
}

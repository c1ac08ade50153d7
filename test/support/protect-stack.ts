/**
 * The whole protection stack for an integration test, as protect-e2e builds
 * it: the two-region simulator, Dragon's config written for it, a fresh
 * PostgreSQL database, an engine (unless the test runs its own) and the API
 * on a transport of the test's choosing, and a demo Keystone token.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { type RunningApi, runApi } from '../../services/api/service.js';
import { type RunningCloud, startCloud } from '../../services/cloudsim/cloud.js';
import { writeQuickstartConfig } from '../../services/cloudsim/quickstart-clouds.js';
import { allServices } from '../../services/cloudsim/services.js';
import { type Config, loadDragonConfig } from '../../services/common/config/index.js';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';
import type { Transport } from '../../services/common/rpc/types.js';
import { type AssembledEngine, assembleEngine } from '../../services/engine/assemble.js';
import { apiCaller, type Body } from './api-caller.js';
import { createTestDatabase, type TestDatabase } from './pg.js';
import { demoSiteClients, type SiteClientsHandle } from './site-clients.js';
import { demoToken } from './tokens.js';

export type { Body };
export { demoToken };

export interface ProtectStack {
  cloud: RunningCloud;
  conf: Config;
  confPath: string;
  testDb: TestDatabase;
  db: Knex;
  api: RunningApi;
  engine?: AssembledEngine;
  transport: Transport;
  primary: SiteClientsHandle;
  backup: SiteClientsHandle;
  token: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }>;
  waitExecution(id: string, timeoutMs?: number): Promise<Body>;
  /** A policy named `name` with the given resources, through the API. */
  policy(name: string, resources: Array<Record<string, unknown>>): Promise<string>;
  /** The disaster: this Dragon's API and engine stop and its database is dropped (close() then skips them). */
  destroyDragon(): Promise<void>;
  close(): Promise<void>;
}

export async function startProtectStack(
  opts: { transport?: Transport; withEngine?: boolean; engineHost?: string } = {},
): Promise<ProtectStack> {
  const cloud = await startCloud({ services: allServices });
  const primary = demoSiteClients(cloud, 'RegionOne');
  const backup = demoSiteClients(cloud, 'RegionTwo');
  const state = mkdtempSync(join(tmpdir(), 'dragon-protect-'));
  const confPath = join(state, 'dragon.conf');
  writeQuickstartConfig(confPath, cloud, state);
  const testDb = await createTestDatabase();
  const conf = loadDragonConfig({
    sources: { configFiles: [confPath], configDirs: [] },
    env: { DRAGON_DATABASE__CONNECTION: testDb.url },
  });
  const db = openDatabase({ connection: testDb.url, statePath: state, maxPoolSize: 8 });
  await syncSchema(db);
  const transport = opts.transport ?? new InProcessTransport();
  let engine: AssembledEngine | undefined;
  if (opts.withEngine !== false) {
    engine = assembleEngine(conf, db, transport, {
      host: opts.engineHost ?? 'protect-engine',
      heartbeatIntervalMs: 500,
      sweepIntervalMs: 500,
    });
    await engine.start();
  }
  const api = await runApi(conf, db, transport, { listen: { host: '127.0.0.1', port: 0 } });
  const token = await demoToken(cloud);

  const { call, waitExecution } = apiCaller(api.url, token);
  const policy = async (name: string, resources: Array<Record<string, unknown>>) => {
    const created = await call('POST', '/v1/policies', { policy: { name, backup_site: 'RegionTwo' } });
    if (created.status !== 201) throw new Error(`policy not created: ${JSON.stringify(created.body)}`);
    const id = created.body.policy.id as string;
    for (const resource of resources) {
      const res = await call('POST', `/v1/policies/${id}/resources`, { resource });
      if (res.status !== 201) throw new Error(`resource not added: ${JSON.stringify(res.body)}`);
    }
    return id;
  };

  let dragonGone = false;
  const destroyDragon = async () => {
    if (dragonGone) return;
    dragonGone = true;
    await api.stop();
    await engine?.stop();
    await transport.close();
    await db.destroy();
    await testDb.drop();
  };
  return {
    cloud,
    conf,
    confPath,
    testDb,
    db,
    api,
    engine,
    transport,
    primary,
    backup,
    token,
    call,
    waitExecution,
    policy,
    destroyDragon,
    async close() {
      await destroyDragon();
      await primary.close();
      await backup.close();
      await cloud.close();
    },
  };
}

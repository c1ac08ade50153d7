/**
 * The `dragon` CLI against the real thing: the API with Keystone auth and the
 * default policy, a real engine, PostgreSQL, and the cloud simulator's
 * Keystone serving a catalog with Dragon's endpoint — found through a
 * clouds.yaml in the working directory, as a tenant would.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createAuthMiddleware } from '../../services/api/auth/index.js';
import { type RunningApi, runApi } from '../../services/api/service.js';
import { runCli } from '../../services/cli/main.js';
import { type RunningCloud, startCloud } from '../../services/cloudsim/cloud.js';
import { writeQuickstartCloudsYaml } from '../../services/cloudsim/quickstart-clouds.js';
import { loadDragonConfig } from '../../services/common/config/index.js';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';
import { Engine } from '../../services/engine/service.js';
import { createExecution } from '../../services/engine/store.js';
import { engineSettings, sleeperStep } from '../support/engine-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';

let cloud: RunningCloud;
let testDb: TestDatabase;
let db: Knex;
let api: RunningApi;
let engine: Engine;
let transport: InProcessTransport;
let cwd: string;

beforeAll(async () => {
  cloud = await startCloud({ services: [] });
  testDb = await createTestDatabase();
  db = openDatabase({ connection: testDb.url, statePath: '', maxPoolSize: 5 });
  await syncSchema(db);
  transport = new InProcessTransport();
  engine = new Engine(db, transport, engineSettings({ host: 'cli-engine' }));
  await engine.start();
  const authenticate = createAuthMiddleware({
    strategy: 'keystone',
    authtoken: {
      auth_url: `${cloud.keystone.url}/v3`,
      username: 'dragon',
      password: 'DRAGON_PASS',
      project_name: 'service',
      interface: 'public',
    },
  });
  api = await runApi(loadDragonConfig({ defaultFile: null, env: {} }), db, transport, {
    listen: { host: '127.0.0.1', port: 0 },
    authenticate,
  });
  for (const region of Object.keys(cloud.sites)) {
    cloud.keystone.store.registerService('disaster-recovery', 'dragon', `${api.url}/v1`, region);
  }
  cwd = mkdtempSync(join(tmpdir(), 'dragon-cli-real-'));
  writeQuickstartCloudsYaml(join(cwd, 'clouds.yaml'), cloud);
});

afterAll(async () => {
  await api?.stop();
  await engine?.stop();
  await transport?.close();
  await db?.destroy();
  await testDb?.drop();
  await cloud?.close();
});

async function dragon(args: string[], cloudName = 'sim-primary') {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { OS_CLOUD: cloudName },
    cwd,
    home: cwd,
    pollIntervalMs: 50,
  });
  return { code, stdout, stderr };
}

describe('dragon CLI against the running API', () => {
  it('manages a policy and its resources through every verb, in every output format', async () => {
    const created = await dragon(['policy', 'create', 'web-shop', '--description', 'shop', '-f', 'json']);
    expect(created.code, created.stderr).toBe(0);
    const policy = JSON.parse(created.stdout);
    expect(policy).toMatchObject({
      Name: 'web-shop',
      Description: 'shop',
      'Project ID': cloud.demo.projectId,
    });

    expect((await dragon(['policy', 'list', '-f', 'value', '-c', 'Name'])).stdout.trim()).toBe('web-shop');
    const yaml = parse((await dragon(['policy', 'show', 'web-shop', '-f', 'yaml'])).stdout);
    expect(yaml.ID).toBe(policy.ID);
    const csv = (await dragon(['policy', 'list', '-f', 'csv', '-c', 'ID', '-c', 'Name'])).stdout
      .trim()
      .split('\n');
    expect(csv).toEqual(['"ID","Name"', `"${policy.ID}","web-shop"`]);
    const table = (await dragon(['policy', 'show', policy.ID])).stdout;
    expect(table).toMatch(/\| Name\s+\| web-shop\s+\|/);

    expect((await dragon(['policy', 'set', 'web-shop', '--backup-site', 'RegionTwo'])).code).toBe(0);
    expect(
      (await dragon(['policy', 'show', 'web-shop', '-f', 'value', '-c', 'Backup Site'])).stdout.trim(),
    ).toBe('RegionTwo');
    expect((await dragon(['policy', 'unset', 'web-shop', '--description'])).code).toBe(0);

    const add = await dragon([
      'policy',
      'resource',
      'add',
      'web-shop',
      '--resource-id',
      'srv-1',
      '--type',
      'Dragon::Test::Sleeper',
      '--action',
      'test-sleeper',
      '--options-json',
      '{"sleep_ms": 10}',
      '-f',
      'json',
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ 'Resource ID': 'srv-1', Action: 'test-sleeper' });
    const bad = await dragon([
      'policy',
      'resource',
      'add',
      'web-shop',
      '--resource-id',
      'srv-2',
      '--type',
      'Dragon::Test::Sleeper',
      '--action',
      'test-sleeper',
      '--options-json',
      '{"sleep_ms": "slow"}',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/\(HTTP 400\) \(Request-ID: req-[0-9a-f-]{36}\)/);
    expect(
      (
        await dragon(['policy', 'resource', 'list', 'web-shop', '-f', 'value', '-c', 'Resource ID'])
      ).stdout.trim(),
    ).toBe('srv-1');
    expect((await dragon(['policy', 'resource', 'remove', 'web-shop', 'srv-1'])).code).toBe(0);

    // Another tenant's view: sim-admin's own project has no such policy.
    const other = await dragon(['policy', 'show', 'web-shop'], 'sim-admin');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("No policy with a name or ID of 'web-shop' exists.");

    expect((await dragon(['policy', 'delete', 'web-shop'])).code).toBe(0);
    expect((await dragon(['policy', 'list', '-f', 'json'])).stdout.trim()).toBe('[]');
  });

  it('lists actions and services, and cancels an execution with --wait', async () => {
    const actions = JSON.parse((await dragon(['action', 'list', '-f', 'json'])).stdout);
    expect(actions.map((a: { Name: string }) => a.Name)).toEqual(['test-sleeper']);
    expect(
      (await dragon(['action', 'show', 'test-sleeper', '-f', 'value', '-c', 'Resource Type'])).stdout.trim(),
    ).toBe('Dragon::Test::Sleeper');
    const services = await dragon(
      ['service', 'list', '-f', 'value', '-c', 'Binary', '-c', 'State'],
      'sim-admin',
    );
    expect(services.stdout.split('\n').filter(Boolean).sort()).toEqual(['dragon-api up', 'dragon-engine up']);
    expect((await dragon(['service', 'list'])).code).toBe(1);

    const ex = await createExecution(db, {
      kind: 'protect',
      project_id: cloud.demo.projectId,
      steps: [sleeperStep('long', { sleep_ms: 30_000 })],
    });
    await engine.sweep();
    const shown = JSON.parse((await dragon(['execution', 'show', ex.id, '-f', 'json'])).stdout);
    expect(shown.Status).toBe('running');
    const cancel = await dragon(['execution', 'cancel', ex.id, '--wait']);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect((await dragon(['execution', 'show', ex.id, '-f', 'value', '-c', 'Status'])).stdout.trim()).toBe(
      'cancelled',
    );
  });
});

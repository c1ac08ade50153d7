/**
 * Protect with the full stack (API, engine on PostgreSQL, simulated two-site
 * cloud): `consistency: paused` keeps the policy's servers paused only while
 * the point-in-time captures are taken and always unpauses them (success,
 * failure, cancel); the execution's progress counts steps and bytes; a
 * policy's bank readers can read its checkpoints with their own credentials.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, runApi } from '../../services/api/service.js';
import { type RunningCloud, startCloud } from '../../services/cloudsim/cloud.js';
import { writeQuickstartConfig } from '../../services/cloudsim/quickstart-clouds.js';
import { allServices } from '../../services/cloudsim/services.js';
import { loadDragonConfig } from '../../services/common/config/index.js';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { KeystoneSession } from '../../services/common/openstack/session.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';
import { type AssembledEngine, assembleEngine } from '../../services/engine/assemble.js';
import { openCheckpoint, swiftForAccount } from '../../services/engine/bank/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { demoSiteClients, type SiteClientsHandle } from '../support/site-clients.js';
import { buildThreeTier, type ThreeTier } from '../support/three-tier.js';
import { demoToken } from '../support/tokens.js';

let cloud: RunningCloud;
let testDb: TestDatabase;
let db: Knex;
let api: RunningApi;
let engine: AssembledEngine;
let transport: InProcessTransport;
let primary: SiteClientsHandle;
let backup: SiteClientsHandle;
let workload: ThreeTier;
let token: string;
let state: string;

interface Step {
  name: string;
  status: string;
  result: unknown;
}
interface Execution {
  id: string;
  status: string;
  error: string | null;
  progress_detail: Record<string, unknown>;
  steps: Step[];
}

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

async function getExecution(id: string): Promise<Execution> {
  return (await call('GET', `/v1/executions/${id}`)).body.execution;
}

const FINAL = ['succeeded', 'failed', 'cancelled'];

async function waitExecution(id: string, timeoutMs = 90_000): Promise<Execution> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await getExecution(id);
    if (FINAL.includes(e.status)) return e;
    if (Date.now() > deadline) throw new Error(`execution ${id} still ${e.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function createPolicy(name: string, resources: Array<Record<string, unknown>>, extra = {}) {
  const created = await call('POST', '/v1/policies', {
    policy: { name, backup_site: 'RegionTwo', ...extra },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  for (const resource of resources) {
    const res = await call('POST', `/v1/policies/${created.body.policy.id}/resources`, { resource });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return created.body.policy as { id: string; bank_readers: string[] };
}

const serverStatus = async (id: string) => (await primary.clients.nova.getServer(id)).status;

interface Sample {
  steps: Record<string, string>;
  web: string;
  db: string;
}

/** Samples the execution's steps and the servers' statuses until the execution ends (or `until` says stop). */
async function observe(executionId: string, until: (s: Sample) => boolean = () => false): Promise<Sample[]> {
  const samples: Sample[] = [];
  const deadline = Date.now() + 90_000;
  for (;;) {
    const e = await getExecution(executionId);
    const [web, dbs] = await Promise.all([
      serverStatus(workload.servers.web.id),
      serverStatus(workload.servers.db.id),
    ]);
    const sample = { steps: Object.fromEntries(e.steps.map((s) => [s.name, s.status])), web, db: dbs };
    samples.push(sample);
    if (FINAL.includes(e.status) || until(sample)) return samples;
    if (Date.now() > deadline) throw new Error(`execution ${executionId} still ${e.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  cloud = await startCloud({ services: allServices });
  primary = demoSiteClients(cloud, 'RegionOne');
  backup = demoSiteClients(cloud, 'RegionTwo');
  workload = await buildThreeTier(primary.clients);

  state = mkdtempSync(join(tmpdir(), 'dragon-consistency-'));
  writeQuickstartConfig(join(state, 'dragon.conf'), cloud, state);
  testDb = await createTestDatabase();
  const conf = loadDragonConfig({
    sources: { configFiles: [join(state, 'dragon.conf')], configDirs: [] },
    env: { DRAGON_DATABASE__CONNECTION: testDb.url },
  });
  db = openDatabase({ connection: testDb.url, statePath: state, maxPoolSize: 8 });
  await syncSchema(db);
  transport = new InProcessTransport();
  engine = assembleEngine(conf, db, transport, {
    host: 'consistency-engine',
    heartbeatIntervalMs: 300,
    sweepIntervalMs: 500,
    stepRetries: 1,
    retryBackoffMs: 100,
  });
  await engine.start();
  api = await runApi(conf, db, transport, { listen: { host: '127.0.0.1', port: 0 } });
  token = await demoToken(cloud);
}, 240_000);

afterEach(() => {
  cloud.faults.RegionOne.clear();
  cloud.faults.RegionTwo.clear();
});

afterAll(async () => {
  await api?.stop();
  await engine?.stop();
  await transport?.close();
  await db?.destroy();
  await testDb?.drop();
  await primary?.close();
  await backup?.close();
  await cloud?.close();
  // The simulated sites keep images, volumes and objects on disk: gigabytes per run.
  if (cloud) rmSync(cloud.dataDir, { recursive: true, force: true });
  if (state) rmSync(state, { recursive: true, force: true });
});

describe('consistency: paused', () => {
  const servers = () => [
    { resource_id: workload.servers.web.id, resource_type: 'OS::Nova::Server', action: 'server-snapshot' },
    { resource_id: workload.servers.db.id, resource_type: 'OS::Nova::Server', action: 'image-copy' },
  ];
  let pausedContainer = '';

  it('pauses every server while the snapshots are taken and resumes them before the data copy ends', async () => {
    const policy = await createPolicy('paused-ok', servers());
    expect(await serverStatus(workload.servers.web.id)).toBe('ACTIVE');
    // Slow Nova actions make the paused window long enough to be seen; slow bank writes make the copy long.
    cloud.faults.RegionOne.set('compute', { latencyMs: 700, methods: ['POST'] });
    cloud.faults.RegionTwo.set('object-store', { latencyMs: 1500, methods: ['PUT'] });

    const protect = await call('POST', `/v1/policies/${policy.id}/protect`, {
      protect: { consistency: 'paused' },
    });
    expect(protect.status).toBe(202);
    const samples = await observe(protect.body.execution_id);
    const execution = await waitExecution(protect.body.execution_id);
    expect(execution.error).toBeNull();
    expect(execution.status).toBe('succeeded');

    const snapshotStep = `server-${workload.servers.web.id}`;
    // Both servers paused while the server snapshot was being taken...
    expect(
      samples.some(
        (s) =>
          s.steps['zz-pause'] === 'succeeded' &&
          s.steps[snapshotStep] === 'running' &&
          s.web === 'PAUSED' &&
          s.db === 'PAUSED',
      ),
    ).toBe(true);
    // ...and running again while data was still being copied, long before the manifest.
    expect(
      samples.some(
        (s) =>
          s.web === 'ACTIVE' &&
          s.db === 'ACTIVE' &&
          s.steps['zz-pause'] === 'succeeded' &&
          s.steps[snapshotStep] === 'running' &&
          s.steps['zz-manifest'] === 'pending',
      ),
    ).toBe(true);
    // Never paused once the manifest was being written.
    expect(samples.filter((s) => s.steps['zz-manifest'] !== 'pending').every((s) => s.web === 'ACTIVE')).toBe(
      true,
    );
    const pause = execution.steps.find((s) => s.name === 'zz-pause');
    expect([...((pause?.result as { paused?: string[] } | undefined)?.paused ?? [])].sort()).toEqual(
      [workload.servers.web.id, workload.servers.db.id].sort(),
    );
    expect(await serverStatus(workload.servers.web.id)).toBe('ACTIVE');
    expect(await serverStatus(workload.servers.db.id)).toBe('ACTIVE');

    const { body } = await call('GET', `/v1/checkpoints/${protect.body.checkpoint.id}`);
    expect(body.checkpoint.status).toBe('available');
    pausedContainer = body.checkpoint.container;
    // The pause step is Dragon's own, not a resource of the checkpoint.
    const bank = await openCheckpoint({ swift: backup.clients.swift, container: pausedContainer });
    expect(Object.keys(bank.manifest.steps).sort()).toEqual(
      [snapshotStep, `server-${workload.servers.db.id}`].sort(),
    );
  }, 120_000);

  it('unpauses the servers when the protect fails (bank failure)', async () => {
    const policy = await createPolicy('paused-fail', servers());
    cloud.faults.RegionOne.set('compute', { latencyMs: 700, methods: ['POST'] });
    const protect = await call('POST', `/v1/policies/${policy.id}/protect`, {
      protect: { consistency: 'paused' },
    });
    expect(protect.status).toBe(202);
    const seen = await observe(protect.body.execution_id, (s) => s.steps['zz-pause'] === 'succeeded');
    expect(seen.at(-1)?.web).toBe('PAUSED');
    // The bank at the backup site refuses every write from now on.
    cloud.faults.RegionTwo.set('object-store', { errorRate: 1, methods: ['PUT'] });
    const execution = await waitExecution(protect.body.execution_id);
    expect(execution.status).toBe('failed');
    expect(execution.error).toMatch(/failed/);
    expect(await serverStatus(workload.servers.web.id)).toBe('ACTIVE');
    expect(await serverStatus(workload.servers.db.id)).toBe('ACTIVE');
    const { body } = await call('GET', `/v1/checkpoints/${protect.body.checkpoint.id}`);
    expect(body.checkpoint.status).toBe('error');
  }, 120_000);

  it('unpauses the servers when the protect is cancelled while they are paused', async () => {
    const policy = await createPolicy('paused-cancel', servers());
    // createImage takes long: the servers are still paused when the cancel arrives.
    cloud.faults.RegionOne.set('compute', { latencyMs: 1500, methods: ['POST'] });
    const protect = await call('POST', `/v1/policies/${policy.id}/protect`, {
      protect: { consistency: 'paused' },
    });
    expect(protect.status).toBe(202);
    const seen = await observe(protect.body.execution_id, (s) => s.steps['zz-pause'] === 'succeeded');
    expect(seen.at(-1)).toMatchObject({ web: 'PAUSED' });
    const cancel = await call('POST', `/v1/executions/${protect.body.execution_id}/cancel`);
    expect(cancel.status).toBe(202);
    const execution = await waitExecution(protect.body.execution_id);
    expect(execution.status).toBe('cancelled');
    expect(await serverStatus(workload.servers.web.id)).toBe('ACTIVE');
    expect(await serverStatus(workload.servers.db.id)).toBe('ACTIVE');
  }, 120_000);

  it('with consistency none there is no pause step and the servers are never paused', async () => {
    const policy = await createPolicy('not-paused', servers());
    const protect = await call('POST', `/v1/policies/${policy.id}/protect`);
    const samples = await observe(protect.body.execution_id);
    const execution = await waitExecution(protect.body.execution_id);
    expect(execution.status).toBe('succeeded');
    expect(execution.steps.map((s) => s.name)).not.toContain('zz-pause');
    expect(samples.every((s) => s.web === 'ACTIVE' && s.db === 'ACTIVE')).toBe(true);
  }, 120_000);

  describe('bank readers', () => {
    let reader: KeystoneSession;
    let readerProjectId: string;

    beforeAll(() => {
      const store = cloud.keystone.store;
      const project = store.createProject({ name: 'recovery-team' });
      readerProjectId = project.id;
      const user = store.createUser({
        name: 'recoverer',
        password: 'RECOVER_PASS',
        defaultProjectId: project.id,
      });
      store.grant(user.id, store.findRole('member')!.id, { projectId: project.id });
      reader = new KeystoneSession({
        authUrl: `${cloud.keystone.url}/v3`,
        auth: {
          type: 'password',
          username: 'recoverer',
          password: 'RECOVER_PASS',
          userDomainName: 'Default',
        },
        scope: { projectName: 'recovery-team', projectDomainName: 'Default' },
        regionName: 'RegionTwo',
        interface: 'public',
        retryDelayMs: 5,
      });
    });
    afterAll(async () => {
      await reader?.close();
    });

    it('counts steps and bytes, and lets the named project read and verify the checkpoint', async () => {
      const policy = await createPolicy(
        'shared-bank',
        [{ resource_id: workload.servers.db.id, resource_type: 'OS::Nova::Server', action: 'image-copy' }],
        { bank_readers: [readerProjectId] },
      );
      expect(policy.bank_readers).toEqual([readerProjectId]);
      const protect = await call('POST', `/v1/policies/${policy.id}/protect`);
      const execution = await waitExecution(protect.body.execution_id);
      expect(execution.status).toBe('succeeded');

      // Progress: every step done, and the bytes of the base image copied.
      const image = await primary.clients.glance.getImage(workload.imageId);
      expect(image.size).toBeGreaterThan(0);
      expect(execution.progress_detail).toMatchObject({
        steps_total: 3,
        steps_done: 3,
        bytes_done: image.size,
        bytes_total: image.size,
      });

      const { body } = await call('GET', `/v1/checkpoints/${protect.body.checkpoint.id}`);
      const swift = swiftForAccount(reader, `AUTH_${cloud.demo.projectId}`);
      const bank = await openCheckpoint({ swift, container: body.checkpoint.container });
      expect(bank.list().some((o) => o.name === `images/${workload.imageId}.img`)).toBe(true);
      const verified = await bank.verify();
      expect(verified.ok).toBe(true);
    }, 120_000);

    it('without bank readers another project cannot read the checkpoint', async () => {
      expect(pausedContainer).not.toBe('');
      const swift = swiftForAccount(reader, `AUTH_${cloud.demo.projectId}`);
      await expect(openCheckpoint({ swift, container: pausedContainer })).rejects.toThrow();
      // The owner still can.
      await expect(
        openCheckpoint({ swift: backup.clients.swift, container: pausedContainer }),
      ).resolves.toBeDefined();
    });

    it('sets and clears bank readers on the policy', async () => {
      const policy = await createPolicy('readers-edit', []);
      expect(policy.bank_readers).toEqual([]);
      const set = await call('PATCH', `/v1/policies/${policy.id}`, {
        policy: { bank_readers: [readerProjectId, 'other'] },
      });
      expect(set.body.policy.bank_readers).toEqual([readerProjectId, 'other']);
      const bad = await call('PATCH', `/v1/policies/${policy.id}`, { policy: { bank_readers: ['a,b:*'] } });
      expect(bad.status).toBe(400);
      const cleared = await call('PATCH', `/v1/policies/${policy.id}`, { policy: { bank_readers: null } });
      expect(cleared.body.policy.bank_readers).toEqual([]);
    });
  });
});

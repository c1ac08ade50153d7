/**
 * `npm run bench:recover`: time to recover (RTO) at the backup site, from
 * the bank, through the API, engine in this process, simulated two-site
 * cloud. Each workload is protected once, then recovered with
 * max_parallel_steps = BENCH_PARALLEL (64) and with 1 (the first recovery
 * is torn down before the second).
 *
 * 1. The three-tier workload (three servers with image-copy, a 1 GiB data
 *    volume with volume-snapshot backup, a 1 GiB db volume with image).
 * 2. BENCH_SERVERS (50) servers with image-copy and BENCH_VOLUMES (100)
 *    replicated volumes with volume-replication (taking a replica over is
 *    admin-only in Cinder's default policy, so this part acts as the cloud
 *    admin), BENCH_LATENCY_MS (50) ms injected on every API of both sites.
 *    Target: parallel ≥ 10x faster than serial.
 *
 * BENCH_ONLY=three-tier or BENCH_ONLY=parallel runs one part alone.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningApi, runApi } from '../../services/api/service.js';
import { writeQuickstartConfig } from '../../services/cloudsim/quickstart-clouds.js';
import { loadDragonConfig } from '../../services/common/config/index.js';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { configureLogging } from '../../services/common/log.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';
import { type AssembledEngine, assembleEngine } from '../../services/engine/assemble.js';
import { startCloudInWorker } from '../support/cloud-worker.js';
import { adminSiteClients, demoSiteClients } from '../support/site-clients.js';
import { buildThreeTier } from '../support/three-tier.js';
import { passwordToken } from '../support/tokens.js';
import { buildManyWorkload, manyWorkloadResources } from './many-workload.js';

const SERVERS = Number(process.env.BENCH_SERVERS ?? 50);
const VOLUMES = Number(process.env.BENCH_VOLUMES ?? 100);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 64);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const ONLY = process.env.BENCH_ONLY;
configureLogging({ level: (process.env.BENCH_LOG as 'info' | undefined) ?? 'warn' });
const print = (line: string) => process.stdout.write(`${line}\n`);

const dataRoot = process.env.BENCH_DATA_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const cloudDir = mkdtempSync(join(dataRoot, 'bench-recover-cloudsim-'));
// The simulator on a thread of its own: its work is the cloud's, not Dragon's (see test/support/cloud-worker.ts).
const cloud = await startCloudInWorker({ dataDir: cloudDir });
const state = mkdtempSync(join(tmpdir(), 'bench-recover-'));
writeQuickstartConfig(join(state, 'dragon.conf'), cloud, state);
const conf = loadDragonConfig({ sources: { configFiles: [join(state, 'dragon.conf')], configDirs: [] } });
const db = openDatabase({ connection: '', statePath: state, maxPoolSize: 8 });
await syncSchema(db);
const transport = new InProcessTransport();
const api: RunningApi = await runApi(conf, db, transport, { listen: { host: '127.0.0.1', port: 0 } });

async function startEngine(maxParallelSteps: number): Promise<AssembledEngine> {
  const engine = assembleEngine(conf, db, transport, {
    host: `bench-engine-${maxParallelSteps}`,
    heartbeatIntervalMs: 500,
    sweepIntervalMs: 500,
    maxParallelSteps,
  });
  await engine.start();
  return engine;
}

function client(token: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${api.url}${path}`, {
      method,
      headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const waitExecution = async (id: string) => {
    for (;;) {
      const { execution } = await call('GET', `/v1/executions/${id}`);
      if (['succeeded', 'failed', 'cancelled'].includes(execution.status)) {
        if (execution.status !== 'succeeded')
          throw new Error(`execution ${id} ${execution.status}: ${JSON.stringify(execution.error)}`);
        return execution;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { call, waitExecution };
}

type Client = ReturnType<typeof client>;

/** Protects the resources once; returns the checkpoint's container. */
async function protectOnce(
  c: Client,
  name: string,
  resources: Array<Record<string, unknown>>,
): Promise<string> {
  const engine = await startEngine(PARALLEL);
  try {
    const { policy } = await c.call('POST', '/v1/policies', { policy: { name, backup_site: 'RegionTwo' } });
    for (const resource of resources)
      await c.call('POST', `/v1/policies/${policy.id}/resources`, { resource });
    const res = await c.call('POST', `/v1/policies/${policy.id}/protect`);
    await c.waitExecution(res.execution_id);
    return (await c.call('GET', `/v1/checkpoints/${res.checkpoint.id}`)).checkpoint.container;
  } finally {
    await engine.stop();
  }
}

/** Recovers with `width` parallel steps, reads the RTO, then tears the recovery down. */
async function recoverWith(c: Client, container: string, width: number, label: string) {
  const engine = await startEngine(width);
  try {
    const t0 = performance.now();
    const res = await c.call('POST', '/v1/recoveries', {
      recovery: { checkpoint: container, site: 'RegionTwo', stack_name: `${label}-${width}` },
    });
    await c.waitExecution(res.execution_id);
    const wall = (performance.now() - t0) / 1000;
    const { recovery } = await c.call('GET', `/v1/recoveries/${res.recovery.id}`);
    const stepRows = await db('execution_steps').where({ execution_id: res.execution_id });
    const span = (names: (n: string) => boolean) => {
      const rows = stepRows.filter((s: { name: string }) => names(s.name));
      if (rows.length === 0) return 0;
      const start = Math.min(...rows.map((s: { started_at: Date }) => new Date(s.started_at).getTime()));
      const end = Math.max(...rows.map((s: { finished_at: Date }) => new Date(s.finished_at).getTime()));
      return (end - start) / 1000;
    };
    const del = await c.call('DELETE', `/v1/recoveries/${res.recovery.id}`);
    await c.waitExecution(del.execution_id);
    return {
      wall,
      rto: recovery.result.rto_seconds as number,
      verify: span((n) => n === 'aa-verify'),
      plan: span((n) => n === 'aa-plan'),
      resources: span((n) => n.startsWith('server-') || n.startsWith('volume-')),
      stack: span((n) => n === 'zz-stack'),
    };
  } finally {
    await engine.stop();
  }
}

/** `withTarget`: the 10x target is the many-resource workload's; five resource steps cannot give 10x. */
function report(
  title: string,
  wide: Awaited<ReturnType<typeof recoverWith>>,
  serial: typeof wide,
  withTarget: boolean,
) {
  print(title);
  for (const [label, r] of [
    [`max_parallel_steps = ${String(PARALLEL).padStart(2)}`, wide],
    ['max_parallel_steps =  1', serial],
  ] as const)
    print(
      `  ${label}: RTO ${r.rto.toFixed(1)} s (wall ${r.wall.toFixed(1)} s; verify ${r.verify.toFixed(1)} s, plan ${r.plan.toFixed(1)} s, resource steps ${r.resources.toFixed(1)} s, stack ${r.stack.toFixed(1)} s)`,
    );
  const speedup = serial.rto / wide.rto;
  const verdict = withTarget ? ` (target >= 10x: ${speedup >= 10 ? 'met' : 'NOT met'})` : '';
  print(`  speed-up: ${speedup.toFixed(1)}x${verdict}`);
}

if (ONLY !== 'parallel') {
  const demo = demoSiteClients(cloud, 'RegionOne');
  const c = client(await passwordToken(cloud.keystone.url, 'demo', 'DEMO_PASS', { name: 'demo' }));
  const shop = await buildThreeTier(demo.clients, { dbVolumeSize: 1 });
  const container = await protectOnce(c, 'bench-shop', [
    ...Object.values(shop.servers).map((s) => ({
      resource_id: s.id,
      resource_type: 'OS::Nova::Server',
      action: 'image-copy',
    })),
    {
      resource_id: shop.volumes.data.id,
      resource_type: 'OS::Cinder::Volume',
      action: 'volume-snapshot',
      options: { method: 'backup' },
    },
    {
      resource_id: shop.volumes.db.id,
      resource_type: 'OS::Cinder::Volume',
      action: 'volume-snapshot',
      options: { method: 'image' },
    },
  ]);
  const wide = await recoverWith(c, container, PARALLEL, 'shop');
  const serial = await recoverWith(c, container, 1, 'shop');
  report(
    'three-tier workload (3 servers image-copy, 2 x 1 GiB volumes volume-snapshot), no injected latency:',
    wide,
    serial,
    false,
  );
  await demo.close();
}

if (ONLY !== 'three-tier') {
  const admin = adminSiteClients(cloud, 'RegionOne');
  const adminBackup = adminSiteClients(cloud, 'RegionTwo');
  const token = await passwordToken(cloud.keystone.url, 'admin', 'ADMIN_PASS', { name: 'admin' });
  const c = client(token);
  const projectId = admin.clients.projectId;
  for (const site of [admin.clients, adminBackup.clients]) {
    await site.cinder.updateQuota(projectId, { volumes: VOLUMES * 3, gigabytes: VOLUMES * 3 });
    await site.nova.updateQuota(projectId, {
      instances: SERVERS * 3,
      cores: SERVERS * 3,
      ram: SERVERS * 3 * 512,
    });
  }
  const workload = await buildManyWorkload(admin.clients, { servers: SERVERS, volumes: VOLUMES });
  const container = await protectOnce(c, 'bench-parallel', manyWorkloadResources(workload));
  for (const region of ['RegionOne', 'RegionTwo'])
    for (const type of ['compute', 'volumev3', 'image', 'network', 'object-store', 'orchestration'])
      await cloud.setFault(region, type, { latencyMs: LATENCY_MS });
  const wide = await recoverWith(c, container, PARALLEL, 'many');
  const serial = await recoverWith(c, container, 1, 'many');
  report(
    `${SERVERS} servers (image-copy) + ${VOLUMES} replicated volumes (volume-replication), ${LATENCY_MS} ms latency on every API:`,
    wide,
    serial,
    true,
  );
  await admin.close();
  await adminBackup.close();
}

await api.stop();
await transport.close();
await db.destroy();
await cloud.close();
rmSync(cloudDir, { recursive: true, force: true });
rmSync(state, { recursive: true, force: true });
process.exit(0);

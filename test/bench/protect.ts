/**
 * `npm run bench:protect`: the protect path end to end (simulated two-site
 * cloud, engine in this process, API with a real Keystone token), two figures:
 *
 * 1. A large image into the bank: a BENCH_IMAGE_MIB (default 2048) MiB image
 *    at the primary's Glance, a server booted from it protected with
 *    `image-copy`; the image-copy step's throughput (its started_at →
 *    finished_at) against a raw streamed copy of the same bytes
 *    Glance → backup Swift through the clients (same segment size), and the
 *    process's peak RSS growth during the protect (sampled every 100 ms).
 *    Targets: ≥ 70 % of the raw copy, RSS growth < 200 MB.
 * 2. Parallelism: BENCH_SERVERS (50) servers with `image-copy` and
 *    BENCH_VOLUMES (100) `replicated` volumes with `volume-replication`,
 *    50 ms injected latency on every API of both regions, protected with
 *    max_parallel_steps = BENCH_PARALLEL (32) and then = 1. Target ≥ 10x.
 *
 * BENCH_ONLY=image or BENCH_ONLY=parallel runs one part alone.
 *
 * The simulator's data goes to BENCH_DATA_DIR (default /dev/shm when it
 * exists: the image, the server's root disk and two copies in Swift need
 * several GiB). The database is the embedded PGlite, or with
 * BENCH_DB=postgresql a private PostgreSQL server.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type RunningApi, runApi } from '../../services/api/service.js';
import { writeQuickstartConfig } from '../../services/cloudsim/quickstart-clouds.js';
import { loadDragonConfig } from '../../services/common/config/index.js';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { configureLogging } from '../../services/common/log.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';
import { type AssembledEngine, assembleEngine } from '../../services/engine/assemble.js';
import { startCloudInWorker } from '../support/cloud-worker.js';
import { startPostgres } from '../support/services.js';
import { adminSiteClients, demoSiteClients } from '../support/site-clients.js';
import { passwordToken } from '../support/tokens.js';
import { buildManyWorkload, manyWorkloadResources } from './many-workload.js';

const MiB = 1024 * 1024;
const IMAGE_MIB = Number(process.env.BENCH_IMAGE_MIB ?? 2048);
const SERVERS = Number(process.env.BENCH_SERVERS ?? 50);
const VOLUMES = Number(process.env.BENCH_VOLUMES ?? 100);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 32);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
/** `image` or `parallel` runs that part alone. */
const ONLY = process.env.BENCH_ONLY;
/**
 * How often the script asks the API whether a protect ended. Each answer lists every step (152
 * here); engine, API, database and simulator share this process, so a tight loop would take CPU
 * from the protect it measures. The end time is the execution's own `finished_at`, not the poll.
 */
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 500);
configureLogging({ level: 'warn' });

const dataRoot = process.env.BENCH_DATA_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const cloudDir = mkdtempSync(join(dataRoot, 'bench-cloudsim-'));
// The simulator on a thread of its own: its work is the cloud's, not Dragon's (see test/support/cloud-worker.ts).
const cloud = await startCloudInWorker({ dataDir: cloudDir });
const primary = demoSiteClients(cloud, 'RegionOne');
const backup = demoSiteClients(cloud, 'RegionTwo');
const admin = adminSiteClients(cloud, 'RegionOne');

const state = mkdtempSync(join(tmpdir(), 'bench-protect-'));
writeQuickstartConfig(join(state, 'dragon.conf'), cloud, state);
const conf = loadDragonConfig({ sources: { configFiles: [join(state, 'dragon.conf')], configDirs: [] } });
// BENCH_DB=postgresql starts a private PostgreSQL server (as the tests do); default: the embedded PGlite.
const pgDir = process.env.BENCH_DB === 'postgresql' ? mkdtempSync(join(tmpdir(), 'bench-pg-')) : undefined;
const pgServer = pgDir ? await startPostgres(pgDir) : undefined;
const db = openDatabase({ connection: pgServer?.url ?? '', statePath: state, maxPoolSize: 8 });
await syncSchema(db);
const transport = new InProcessTransport();
const api: RunningApi = await runApi(conf, db, transport, { listen: { host: '127.0.0.1', port: 0 } });

async function startEngine(maxParallelSteps?: number): Promise<AssembledEngine> {
  const engine = assembleEngine(conf, db, transport, {
    host: `bench-engine-${maxParallelSteps ?? 'default'}`,
    heartbeatIntervalMs: 500,
    sweepIntervalMs: 500,
    ...(maxParallelSteps ? { maxParallelSteps } : {}),
  });
  await engine.start();
  return engine;
}

const token = await passwordToken(cloud.keystone.url, 'demo', 'DEMO_PASS', { name: 'demo' });

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  const parsed = text ? JSON.parse(text) : null;
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return parsed;
}

async function waitExecution(id: string, timeoutMs = 3_600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { execution } = await call('GET', `/v1/executions/${id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(execution.status)) return execution;
    if (Date.now() > deadline) throw new Error(`execution ${id} still ${execution.status}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function policyWith(name: string, resources: Array<Record<string, unknown>>): Promise<string> {
  const { policy } = await call('POST', '/v1/policies', { policy: { name, backup_site: 'RegionTwo' } });
  for (const resource of resources) await call('POST', `/v1/policies/${policy.id}/resources`, { resource });
  return policy.id;
}

/**
 * Protects through the API; the time from the request to the execution's end (its `finished_at`,
 * so the polling interval adds nothing to the figure).
 */
async function protect(policyId: string) {
  const t0 = performance.now();
  const requestedAt = Date.now();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const res = await call('POST', `/v1/policies/${policyId}/protect`);
  const execution = await waitExecution(res.execution_id);
  // From the row, not the API's view (whole seconds). The database runs on this machine (in this
  // process, or a private server beside it): one clock.
  const row = await db('executions').where({ id: res.execution_id }).first('finished_at');
  const ms = Math.min(performance.now() - t0, new Date(row.finished_at).getTime() - requestedAt);
  // Engine, API, database and simulator share this process's one event loop: how busy it was.
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  if (execution.status !== 'succeeded')
    throw new Error(`protect ${res.execution_id} ${execution.status}: ${JSON.stringify(execution.error)}`);
  return { executionId: res.execution_id as string, ms, elu, cpuS };
}

/** Deterministic bytes: a SHA-256 chain seeds 1 MiB, each chunk stamped with its index. */
function generatedImage(mib: number): Readable {
  const base = Buffer.alloc(MiB);
  let h = createHash('sha256').update('dragon-bench').digest();
  for (let off = 0; off < MiB; off += 32) {
    h.copy(base, off);
    h = createHash('sha256').update(h).digest();
  }
  return Readable.from(
    (function* () {
      for (let i = 0; i < mib; i++) {
        const chunk = Buffer.from(base);
        chunk.writeUInt32BE(i, 0);
        yield chunk;
      }
    })(),
  );
}

/** Where a protect's time went: per action, its steps' count, summed and longest time; the span of all steps. */
async function stepBreakdown(run: {
  executionId: string;
  ms: number;
  elu: number;
  cpuS: number;
}): Promise<string[]> {
  const { executionId, ms: wallMs } = run;
  const steps: Array<{
    action: string;
    resource_id: string | null;
    started_at: string;
    finished_at: string;
  }> = await db('execution_steps')
    .where({ execution_id: executionId })
    .select('action', 'resource_id', 'started_at', 'finished_at');
  const execution = await db('executions').where({ id: executionId }).first();
  const t = (x: string) => new Date(x).getTime();
  const by = new Map<string, { n: number; sum: number; max: number }>();
  for (const st of steps) {
    const d = t(st.finished_at) - t(st.started_at);
    const a = by.get(st.action) ?? { n: 0, sum: 0, max: 0 };
    by.set(st.action, { n: a.n + 1, sum: a.sum + d, max: Math.max(a.max, d) });
  }
  const first = Math.min(...steps.map((st) => t(st.started_at)));
  const last = Math.max(...steps.map((st) => t(st.finished_at)));
  // How many steps ran in each 250 ms of the run: where the parallelism was, and where it was not.
  const buckets: number[] = [];
  for (let at = first; at < last; at += 250)
    buckets.push(steps.filter((st) => t(st.started_at) < at + 250 && t(st.finished_at) > at).length);
  // The phases on the database's clock, from the execution's creation (the protect request).
  const since = (x: string | Date) =>
    `${((new Date(x).getTime() - t(execution.created_at)) / 1000).toFixed(2)} s`;
  const ofAction = (pred: (st: (typeof steps)[number]) => boolean, end: 'started_at' | 'finished_at') =>
    since(new Date(Math.max(...steps.filter(pred).map((st) => t(st[end])))));
  const phases = [
    `claimed ${since(execution.started_at)}`,
    `first step ${since(new Date(first))}`,
    `resource steps done ${ofAction((st) => st.resource_id !== null, 'finished_at')}`,
    `template done ${ofAction((st) => st.action === 'dragon-template', 'finished_at')}`,
    `manifest ${ofAction((st) => st.action === 'dragon-manifest', 'started_at')} → ${ofAction((st) => st.action === 'dragon-manifest', 'finished_at')}`,
    `finished ${since(execution.finished_at)}`,
  ];
  return [
    `    event loop busy ${(run.elu * 100).toFixed(0)} %, process CPU ${run.cpuS.toFixed(1)} s`,
    `    ${phases.join(', ')}`,
    `    steps from first start to last finish: ${((last - first) / 1000).toFixed(1)} s of ${(wallMs / 1000).toFixed(1)} s`,
    ...(buckets.length <= 40 ? [`    steps running per 250 ms: ${buckets.join(' ')}`] : []),
    ...[...by].map(
      ([action, a]) =>
        `    ${action.padEnd(22)} ${String(a.n).padStart(4)} steps, ${(a.sum / 1000).toFixed(1).padStart(6)} s summed, longest ${(a.max / 1000).toFixed(2)} s`,
    ),
  ];
}

const fast = { intervalMs: 50, maxIntervalMs: 500, timeoutMs: 600_000 };
const out: string[] = [];
const print = (line: string) => {
  out.push(line);
  process.stdout.write(`${line}\n`);
};
print(
  `bench:protect — ${new Date().toISOString()}, node ${process.version}, simulator data in ${dataRoot}, database: ${pgServer ? 'PostgreSQL' : 'embedded PGlite'}`,
);

// ---- 1. a large image into the bank -------------------------------------------------------------
if (ONLY !== 'parallel') {
  const size = IMAGE_MIB * MiB;
  const image = await primary.clients.glance.createImage({
    name: 'bench-large',
    disk_format: 'raw',
    container_format: 'bare',
  });
  let t0 = performance.now();
  await primary.clients.glance.uploadImage(image.id, generatedImage(IMAGE_MIB), { size });
  await primary.clients.glance.waitForImageActive(image.id, fast);
  print(
    `image: ${IMAGE_MIB} MiB uploaded to RegionOne Glance in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // The smallest devstack flavor whose disk holds the image (m1.tiny's 1 GB does not).
  const flavor = IMAGE_MIB * MiB <= 1024 ** 3 ? 'm1.tiny' : 'm1.small';
  const created = await primary.clients.nova.createServer({
    name: 'bench-large-server',
    flavorRef: (await primary.clients.nova.findFlavor(flavor))?.id ?? flavor,
    imageRef: image.id,
    networks: 'none',
  });
  await primary.clients.nova.waitForServer(created.id, 'ACTIVE', fast);

  // Raw copy: the same bytes through the same clients, Glance → backup Swift, same segment size.
  const swift = backup.clients.swift;
  await swift.createContainer('bench-raw-copy');
  t0 = performance.now();
  const rawCpu0 = process.cpuUsage();
  const dl = await primary.clients.glance.downloadImage(image.id);
  if (!dl) throw new Error('the image has no data');
  await swift.putObject('bench-raw-copy', 'image.img', dl.stream, {
    size,
    segmentSize: swift.segmentSize,
    contentType: 'application/octet-stream',
  });
  const rawS = (performance.now() - t0) / 1000;
  // CPU of this process (simulator included) for the copy: steadier than MiB/s on a shared machine.
  const rawCpu = process.cpuUsage(rawCpu0);
  const rawCpuS = (rawCpu.user + rawCpu.system) / 1e6;
  // Free the space again before the protect writes its own copy.
  for (const c of ['bench-raw-copy', 'bench-raw-copy_segments']) {
    const objects = await swift.listObjects(c).catch(() => []);
    if (objects.length) await swift.bulkDelete(objects.map((o) => `${c}/${o.name}`));
    await swift.deleteContainer(c).catch(() => {});
  }

  const engine = await startEngine();
  const policyId = await policyWith('bench-large', [
    { resource_id: created.id, resource_type: 'OS::Nova::Server', action: 'image-copy' },
  ]);
  if (global.gc) global.gc();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const run = await protect(policyId);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await engine.stop();
  const step = await db('execution_steps')
    .where({ execution_id: run.executionId, action: 'image-copy' })
    .first();
  const stepS = (new Date(step.finished_at).getTime() - new Date(step.started_at).getTime()) / 1000;
  const rawMBs = size / MiB / rawS;
  const stepMBs = size / MiB / stepS;
  const ratio = stepMBs / rawMBs;
  const growthMB = (peak - baseline) / 1e6;
  print(
    `raw copy Glance → Swift (RegionTwo): ${rawS.toFixed(1)} s, ${rawMBs.toFixed(1)} MiB/s, process CPU ${rawCpuS.toFixed(1)} s`,
  );
  print(
    `protect image-copy step             : ${stepS.toFixed(1)} s, ${stepMBs.toFixed(1)} MiB/s (whole protect ${(run.ms / 1000).toFixed(1)} s, process CPU ${run.cpuS.toFixed(1)} s)`,
  );
  print(
    `ratio                               : ${(ratio * 100).toFixed(1)} % of the raw copy (target >= 70 %: ${ratio >= 0.7 ? 'met' : 'NOT met'})`,
  );
  print(
    `peak RSS growth during the protect  : ${growthMB.toFixed(1)} MB (baseline ${(baseline / 1e6).toFixed(0)} MB, peak ${(peak / 1e6).toFixed(0)} MB; target < 200 MB: ${growthMB < 200 ? 'met' : 'NOT met'})`,
  );
  // Free the space for part 2.
  await primary.clients.nova.deleteServer(created.id);
  await primary.clients.glance.deleteImage(image.id);
}

// ---- 2. parallelism under API latency -----------------------------------------------------------
if (ONLY !== 'image') {
  await admin.clients.cinder.updateQuota(cloud.demo.projectId, {
    volumes: VOLUMES + 10,
    gigabytes: VOLUMES + 100,
  });
  const t0 = performance.now();
  const workload = await buildManyWorkload(primary.clients, { servers: SERVERS, volumes: VOLUMES });
  print(
    `workload: ${SERVERS} servers (m1.tiny, cirros) and ${VOLUMES} replicated 1 GiB volumes made in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // Resources can only be added while an engine that loads their actions runs.
  let engine = await startEngine(PARALLEL);
  const policyId = await policyWith('bench-parallel', manyWorkloadResources(workload));

  for (const type of ['compute', 'volumev3', 'image', 'network', 'object-store', 'orchestration'])
    await cloud.setFault('RegionOne', type, { latencyMs: LATENCY_MS });
  for (const type of ['object-store', 'orchestration'])
    await cloud.setFault('RegionTwo', type, { latencyMs: LATENCY_MS });

  const wide = await protect(policyId);
  await engine.stop();
  engine = await startEngine(1);
  const serial = await protect(policyId);
  await engine.stop();
  const speedup = serial.ms / wide.ms;
  print(
    `parallelism (${SERVERS} servers image-copy + ${VOLUMES} volumes volume-replication, ${LATENCY_MS} ms latency on every API):`,
  );
  print(`  max_parallel_steps = ${String(PARALLEL).padStart(2)} : ${(wide.ms / 1000).toFixed(1)} s`);
  for (const line of await stepBreakdown(wide)) print(line);
  print(`  max_parallel_steps =  1 : ${(serial.ms / 1000).toFixed(1)} s`);
  for (const line of await stepBreakdown(serial)) print(line);
  print(
    `  speed-up                : ${speedup.toFixed(1)}x (target >= 10x: ${speedup >= 10 ? 'met' : 'NOT met'})`,
  );
}

await api.stop();
await transport.close();
await db.destroy();
await pgServer?.stop();
await primary.close();
await backup.close();
await admin.close();
await cloud.close();
// Several GiB, in memory when under /dev/shm.
rmSync(cloudDir, { recursive: true, force: true });
rmSync(state, { recursive: true, force: true });
if (pgDir) rmSync(pgDir, { recursive: true, force: true });
process.exit(0);

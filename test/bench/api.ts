/**
 * `npm run bench:api`: requests/s and p99 of `GET /v1/policies` (100
 * policies, a token already in the validation cache, the real Keystone
 * middleware and policy enforcer, the embedded database) against a bare
 * express handler returning the same JSON, in one run on the same machine.
 * Target: Dragon at least 50 % of bare express.
 */
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { createAuthMiddleware } from '../../services/api/auth/index.js';
import { runApi } from '../../services/api/service.js';
import { startKeystone } from '../../services/cloudsim/keystone.js';
import { loadDragonConfig } from '../../services/common/config/index.js';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { configureLogging } from '../../services/common/log.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';
import { startPostgres } from '../support/services.js';
import { passwordToken } from '../support/tokens.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// [api] list_cache_mib for the API under test; 0 measures the uncached path.
const LIST_CACHE_MIB = process.env.BENCH_LIST_CACHE_MIB ?? '16';
// Access lines are info: the default measures without them; BENCH_LOG_LEVEL=info writes them (to /dev/null).
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
configureLogging(
  LOG_LEVEL === 'warn'
    ? { level: 'warn' }
    : { level: LOG_LEVEL, destination: createWriteStream('/dev/null') },
);

const keystone = await startKeystone();
const s = keystone.store;
const project = s.createProject({ name: 'bench' });
const user = s.createUser({ name: 'bench', password: 'pw' });
s.grant(user.id, s.ensureRole('member').id, { projectId: project.id });
const token = await passwordToken(keystone.url, 'bench', 'pw', { id: project.id });

// BENCH_DB=postgresql starts a private PostgreSQL server (as the tests do); default: the embedded PGlite.
const pgBase = mkdtempSync(join(tmpdir(), 'bench-pg-'));
const pgServer = process.env.BENCH_DB === 'postgresql' ? await startPostgres(pgBase) : undefined;
const statePath = mkdtempSync(join(tmpdir(), 'bench-'));
const db = openDatabase({ connection: pgServer?.url ?? '', statePath, maxPoolSize: 10 });
await syncSchema(db);
const transport = new InProcessTransport();
const authenticate = createAuthMiddleware({
  strategy: 'keystone',
  authtoken: {
    auth_url: `${keystone.url}/v3`,
    username: 'dragon',
    password: 'DRAGON_PASS',
    project_name: 'service',
    interface: 'public',
    jws_public_key_repository: join(keystone.keyDir, 'public'),
  },
});
const conf = loadDragonConfig({ defaultFile: null, env: { DRAGON_API__LIST_CACHE_MIB: LIST_CACHE_MIB } });
const api = await runApi(conf, db, transport, {
  listen: { host: '127.0.0.1', port: 0 },
  authenticate,
});
for (let i = 0; i < 100; i++) {
  const r = await fetch(`${api.url}/v1/policies`, {
    method: 'POST',
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    body: JSON.stringify({
      policy: { name: `policy-${String(i).padStart(3, '0')}`, description: 'benchmark' },
    }),
  });
  if (r.status !== 201) throw new Error(`creating policy ${i}: ${r.status}`);
}
const path = '/v1/policies?limit=100';
const sample = await (await fetch(`${api.url}${path}`, { headers: { 'x-auth-token': token } })).text();
if (JSON.parse(sample).policies.length !== 100) throw new Error('expected 100 policies');

const bare = express();
// dragon-api sends no ETag (app.set('etag', false)); the baseline must not hash 40 KB per request either.
bare.set('etag', false);
bare.get('/v1/policies', (_req, res) => {
  res.type('application/json').send(sample);
});
const bareServer = await new Promise<import('node:http').Server>((ok) => {
  const srv = bare.listen(0, '127.0.0.1', () => ok(srv));
});
const bareUrl = `http://127.0.0.1:${(bareServer.address() as import('node:net').AddressInfo).port}`;

interface LoadResult {
  rps: number;
  p99_ms: number;
  p50_ms: number;
  errors: number;
  requests: number;
  /** CPU time of this process (the server under test) per request, microseconds. */
  server_cpu_us: number;
  /** CPU time of PostgreSQL (postmaster, backends, exited backends) per request, microseconds. */
  db_cpu_us: number;
}

/**
 * PostgreSQL's CPU seconds so far, from /proc: the postmaster's own and its
 * reaped children's times plus every live backend's. Throughput moves with
 * whatever else the machine runs; CPU per request moves much less.
 */
function postgresCpuSeconds(): number {
  if (!pgServer) return 0;
  const ticks = 100; // USER_HZ on Linux
  const stat = (pid: string) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  try {
    const postmaster = readFileSync(join(pgBase, 'postgresql', 'data', 'postmaster.pid'), 'utf8').split(
      '\n',
    )[0];
    const own = stat(postmaster);
    // Fields after "(comm) ": state=0 ppid=1 ... utime=11 stime=12 cutime=13 cstime=14.
    let total = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const f = stat(pid);
        if (f[1] === postmaster) total += Number(f[11]) + Number(f[12]);
      } catch {
        // gone meanwhile
      }
    }
    return total / ticks;
  } catch {
    return 0;
  }
}

/** Runs the load generator in its own process; asynchronously, since the servers live in this one. */
async function load(url: string): Promise<LoadResult> {
  const cpuBefore = process.cpuUsage();
  const dbBefore = postgresCpuSeconds();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      resolve(import.meta.dirname, 'load.ts'),
      url,
      String(SECONDS),
      String(CONCURRENCY),
      token,
    ],
    { encoding: 'utf8' },
  );
  const cpu = process.cpuUsage(cpuBefore);
  const dbSeconds = postgresCpuSeconds() - dbBefore;
  const result = JSON.parse(stdout) as LoadResult;
  result.server_cpu_us = (cpu.user + cpu.system) / result.requests;
  result.db_cpu_us = (dbSeconds * 1e6) / result.requests;
  return result;
}

// Warm both up, then measure them in turn, ROUNDS times: on a shared machine the load moves
// between runs, so alternating and taking each side's median keeps one noisy run from deciding.
await load(`${bareUrl}${path}`);
await load(`${api.url}${path}`);
const bareRuns: LoadResult[] = [];
const dragonRuns: LoadResult[] = [];
for (let round = 0; round < ROUNDS; round++) {
  bareRuns.push(await load(`${bareUrl}${path}`));
  dragonRuns.push(await load(`${api.url}${path}`));
}
const median = (runs: LoadResult[]) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
const bareResult = median(bareRuns);
const dragonResult = median(dragonRuns);
// Each round pairs two runs under about the same machine load: the headline is the median paired ratio.
const ratios = bareRuns.map((b, i) => dragonRuns[i].rps / b.rps).sort((a, b) => a - b);
const ratio = ratios[Math.floor(ratios.length / 2)];
const fmt = (r: LoadResult) =>
  `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50_ms.toFixed(2).padStart(6)} ms  p99 ${r.p99_ms.toFixed(2).padStart(6)} ms  (${r.requests} requests, ${r.errors} errors)`;
process.stdout.write(
  [
    `GET ${path} with 100 policies, cached token, ${CONCURRENCY} connections, ${SECONDS} s each, ${ROUNDS} round(s), database: ${process.env.BENCH_DB ? 'PostgreSQL' : 'embedded PGlite'}, list cache: ${LIST_CACHE_MIB} MiB, log level: ${LOG_LEVEL}`,
    ...bareRuns.map(
      (b, i) =>
        `round ${i + 1}: bare ${b.rps.toFixed(0)} req/s, dragon ${dragonRuns[i].rps.toFixed(0)} req/s, ${((100 * dragonRuns[i].rps) / b.rps).toFixed(1)} %; ` +
        `CPU per request: bare ${b.server_cpu_us.toFixed(0)} µs, dragon ${dragonRuns[i].server_cpu_us.toFixed(0)} µs` +
        (pgServer ? ` + PostgreSQL ${dragonRuns[i].db_cpu_us.toFixed(0)} µs` : ''),
    ),
    `bare express : ${fmt(bareResult)}  (median round)`,
    `dragon-api   : ${fmt(dragonResult)}  (median round)`,
    `ratio        : ${(ratio * 100).toFixed(1)} % of bare express, median of the rounds (target >= 50 %)`,
    `keystone validations during the run: ${s.stats.validations} (cache hits do not call Keystone)`,
    '',
  ].join('\n'),
);
await api.stop();
bareServer.close();
await db.destroy();
await pgServer?.stop();
await keystone.close();
rmSync(statePath, { recursive: true, force: true });
rmSync(pgBase, { recursive: true, force: true });
process.exit(0);

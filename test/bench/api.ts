/**
 * `npm run bench:api`: requests/s and p99 of `GET /v1/policies` (100
 * policies, a token already in the validation cache, the real Keystone
 * middleware and policy enforcer, the embedded database) against a bare
 * express handler returning the same JSON, in one run on the same machine.
 * Target: Dragon at least 50 % of bare express.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
configureLogging({ level: 'warn' });

const keystone = await startKeystone();
const s = keystone.store;
const project = s.createProject({ name: 'bench' });
const user = s.createUser({ name: 'bench', password: 'pw' });
s.grant(user.id, s.ensureRole('member').id, { projectId: project.id });
const token = await passwordToken(keystone.url, 'bench', 'pw', { id: project.id });

// BENCH_DB=postgresql starts a private PostgreSQL server (as the tests do); default: the embedded PGlite.
const pgServer =
  process.env.BENCH_DB === 'postgresql'
    ? await startPostgres(mkdtempSync(join(tmpdir(), 'bench-pg-')))
    : undefined;
const db = openDatabase({
  connection: pgServer?.url ?? '',
  statePath: mkdtempSync(join(tmpdir(), 'bench-')),
  maxPoolSize: 10,
});
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
const api = await runApi(loadDragonConfig({ defaultFile: null, env: {} }), db, transport, {
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
}

/** Runs the load generator in its own process; asynchronously, since the servers live in this one. */
async function load(url: string): Promise<LoadResult> {
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
  return JSON.parse(stdout);
}

// Warm both up, then measure each in turn (the load generator runs in its own process).
await load(`${bareUrl}${path}`);
await load(`${api.url}${path}`);
const bareResult = await load(`${bareUrl}${path}`);
const dragonResult = await load(`${api.url}${path}`);
const ratio = dragonResult.rps / bareResult.rps;
const fmt = (r: LoadResult) =>
  `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50_ms.toFixed(2).padStart(6)} ms  p99 ${r.p99_ms.toFixed(2).padStart(6)} ms  (${r.requests} requests, ${r.errors} errors)`;
process.stdout.write(
  [
    `GET ${path} with 100 policies, cached token, ${CONCURRENCY} connections, ${SECONDS} s each, database: ${process.env.BENCH_DB ? 'PostgreSQL' : 'embedded PGlite'}`,
    `bare express : ${fmt(bareResult)}`,
    `dragon-api   : ${fmt(dragonResult)}`,
    `ratio        : ${(ratio * 100).toFixed(1)} % of bare express (target >= 50 %)`,
    `keystone validations during the run: ${s.stats.validations} (cache hits do not call Keystone)`,
    '',
  ].join('\n'),
);
await api.stop();
bareServer.close();
await db.destroy();
await pgServer?.stop();
await keystone.close();
process.exit(0);

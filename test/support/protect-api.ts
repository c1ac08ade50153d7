/**
 * dragon-api with real Keystone auth (the stand-in of a two-region simulated
 * cloud), the default policy rules and PGlite, for the protection tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createAuthMiddleware } from '../../services/api/auth/index.js';
import { type RunningApi, runApi } from '../../services/api/service.js';
import { type RunningCloud, startCloud } from '../../services/cloudsim/cloud.js';
import { allServices } from '../../services/cloudsim/services.js';
import { type Config, loadDragonConfig } from '../../services/common/config/index.js';
import { type Database, openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { configureLogging } from '../../services/common/log.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';

export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are whatever the test asserts them to be
  body: any;
  text: string;
}

export interface ProtectApi {
  cloud: RunningCloud;
  api: RunningApi;
  db: Database;
  /** DRAGON_* variables the config was built from (sites, secret key, Keystone). */
  env: Record<string, string>;
  /** Every log line written since the start (API, sessions), as text. */
  logs: string[];
  /** The API's configuration, loaded again (for engine-side code under test). */
  loadConf(): Config;
  token(user?: string, password?: string, project?: string): Promise<string>;
  call(token: string, method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  close(): Promise<void>;
}

export const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

export async function startProtectApi(
  extraEnv: Record<string, string> = {},
  /** More dragon.conf text, written once the cloud's endpoints are known. */
  extraConf: (cloud: RunningCloud) => string | Promise<string> = () => '',
): Promise<ProtectApi> {
  const logs: string[] = [];
  configureLogging({
    destination: new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  });
  const cloud = await startCloud({ services: allServices });
  const authUrl = `${cloud.keystone.url}/v3`;
  const env = {
    DRAGON_KEYSTONE_AUTHTOKEN__AUTH_URL: authUrl,
    DRAGON_KEYSTONE_AUTHTOKEN__USERNAME: 'dragon',
    DRAGON_KEYSTONE_AUTHTOKEN__PASSWORD: 'DRAGON_PASS',
    DRAGON_KEYSTONE_AUTHTOKEN__INTERFACE: 'public',
    DRAGON_SITES__SECRET_KEY: TEST_SECRET_KEY,
    ...extraEnv,
  };
  const statePath = mkdtempSync(join(tmpdir(), 'dragon-protect-api-'));
  // Instance names keep their case only in files (env variables lower-case them).
  const confFile = join(statePath, 'dragon.conf');
  writeFileSync(
    confFile,
    '[site:RegionOne]\nregion_name = RegionOne\ndescription = primary\n\n' +
      '[site:RegionTwo]\nregion_name = RegionTwo\n\n[sites]\ndefault_primary_site = RegionOne\n\n' +
      (await extraConf(cloud)),
  );
  const loadConf = () =>
    loadDragonConfig({ defaultFile: null, env, sources: { configFiles: [confFile], configDirs: [] } });
  const conf = loadConf();
  const db = openDatabase({ connection: '', statePath, maxPoolSize: 1 });
  await syncSchema(db);
  const transport = new InProcessTransport();
  const authenticate = createAuthMiddleware({
    strategy: 'keystone',
    authtoken: {
      auth_url: authUrl,
      username: 'dragon',
      password: 'DRAGON_PASS',
      project_name: 'service',
      interface: 'public',
      jws_public_key_repository: `${cloud.keystone.keyDir}/public`,
    },
  });
  const api = await runApi(conf, db, transport, { listen: { host: '127.0.0.1', port: 0 }, authenticate });
  return {
    cloud,
    api,
    db,
    env,
    logs,
    loadConf,
    async token(user = 'demo', password = 'DEMO_PASS', project = 'demo') {
      const r = await fetch(`${authUrl}/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { name: user, domain: { id: 'default' }, password } },
            },
            scope: { project: { name: project, domain: { id: 'default' } } },
          },
        }),
      });
      if (r.status !== 201) throw new Error(`token for ${user}: ${r.status}`);
      return r.headers.get('x-subject-token')!;
    },
    async call(token, method, path, body) {
      const r = await fetch(`${api.url}${path}`, {
        method,
        headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null, text };
    },
    async close() {
      await api.stop();
      await transport.close();
      await db.destroy();
      await cloud.close();
      rmSync(statePath, { recursive: true, force: true });
    },
  };
}

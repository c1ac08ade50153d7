/**
 * dragon-api with real Keystone auth (the stand-in of a two-region simulated
 * cloud), the default policy rules and PGlite, for the protection tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthMiddleware } from '../../services/api/auth/index.js';
import { type RunningApi, runApi } from '../../services/api/service.js';
import { type RunningCloud, startCloud } from '../../services/cloudsim/cloud.js';
import { allServices } from '../../services/cloudsim/services.js';
import { loadDragonConfig } from '../../services/common/config/index.js';
import { type Database, openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';

export interface ProtectApi {
  cloud: RunningCloud;
  api: RunningApi;
  db: Database;
  /** DRAGON_* variables the config was built from (sites, secret key, Keystone). */
  env: Record<string, string>;
  token(user?: string, password?: string, project?: string): Promise<string>;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are whatever the test asserts them to be
  call(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

export const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

export async function startProtectApi(extraEnv: Record<string, string> = {}): Promise<ProtectApi> {
  const cloud = await startCloud({ services: allServices });
  const authUrl = `${cloud.keystone.url}/v3`;
  const env = {
    DRAGON_KEYSTONE_AUTHTOKEN__AUTH_URL: authUrl,
    DRAGON_KEYSTONE_AUTHTOKEN__USERNAME: 'dragon',
    DRAGON_KEYSTONE_AUTHTOKEN__PASSWORD: 'DRAGON_PASS',
    DRAGON_KEYSTONE_AUTHTOKEN__INTERFACE: 'public',
    DRAGON_SITE_REGIONONE__REGION_NAME: 'RegionOne',
    DRAGON_SITE_REGIONTWO__REGION_NAME: 'RegionTwo',
    DRAGON_SITES__SECRET_KEY: TEST_SECRET_KEY,
    ...extraEnv,
  };
  const conf = loadDragonConfig({ defaultFile: null, env });
  const statePath = mkdtempSync(join(tmpdir(), 'dragon-protect-api-'));
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

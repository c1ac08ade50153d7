/**
 * dragon-api wired as in production — keystonemiddleware-style auth against
 * the Keystone stand-in (real JWS tokens), the oslo.policy enforcer with the
 * default rules, a real PostgreSQL, and a real engine publishing its plugins
 * — checked route by route for each persona: a reader, a member and an
 * admin of project A, and a member of project B.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthMiddleware } from '../../services/api/auth/index.js';
import { type RunningApi, runApi } from '../../services/api/service.js';
import { type RunningKeystone, startKeystone } from '../../services/cloudsim/keystone.js';
import { loadDragonConfig } from '../../services/common/config/index.js';
import { openDatabase } from '../../services/common/db/connection.js';
import { syncSchema } from '../../services/common/db/migrate.js';
import { InProcessTransport } from '../../services/common/rpc/inprocess.js';
import { Engine } from '../../services/engine/service.js';
import { createExecution } from '../../services/engine/store.js';
import { engineSettings, sleeperStep } from '../support/engine-fixtures.js';
import { json } from '../support/json.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { passwordToken } from '../support/tokens.js';

const issueToken = (user: string, project: string) =>
  passwordToken(keystone.url, user, 'pw', { name: project });

type Persona = 'reader' | 'member' | 'admin' | 'other';
const PERSONAS: Persona[] = ['reader', 'member', 'admin', 'other'];

let keystone: RunningKeystone;
let testDb: TestDatabase;
let db: Knex;
let api: RunningApi;
let engine: Engine;
let transport: InProcessTransport;
const tokens = {} as Record<Persona, string>;
let projectA: string;

beforeAll(async () => {
  keystone = await startKeystone();
  const s = keystone.store;
  const a = s.createProject({ name: 'project-a' });
  const b = s.createProject({ name: 'project-b' });
  projectA = a.id;
  const grant = (name: string, project: string, role: string) => {
    const u = s.createUser({ name, password: 'pw' });
    s.grant(u.id, s.ensureRole(role).id, { projectId: project });
  };
  grant('alice-reader', a.id, 'reader');
  grant('bob-member', a.id, 'member');
  grant('carol-admin', a.id, 'admin');
  grant('dave-member-b', b.id, 'member');
  tokens.reader = await issueToken('alice-reader', 'project-a');
  tokens.member = await issueToken('bob-member', 'project-a');
  tokens.admin = await issueToken('carol-admin', 'project-a');
  tokens.other = await issueToken('dave-member-b', 'project-b');

  testDb = await createTestDatabase();
  db = openDatabase({ connection: testDb.url, statePath: '', maxPoolSize: 5 });
  await syncSchema(db);
  transport = new InProcessTransport();
  engine = new Engine(db, transport, engineSettings({ host: 'persona-engine' }));
  await engine.start();
  const conf = loadDragonConfig({ defaultFile: null, env: {} });
  const authenticate = createAuthMiddleware({
    strategy: 'keystone',
    authtoken: {
      auth_url: `${keystone.url}/v3`,
      www_authenticate_uri: `${keystone.url}/v3`,
      username: 'dragon',
      password: 'DRAGON_PASS',
      project_name: 'service',
      interface: 'public',
      jws_public_key_repository: `${keystone.keyDir}/public`,
    },
  });
  api = await runApi(conf, db, transport, { listen: { host: '127.0.0.1', port: 0 }, authenticate });
});

afterAll(async () => {
  await api?.stop();
  await engine?.stop();
  await transport?.close();
  await db?.destroy();
  await testDb?.drop();
  await keystone?.close();
});

async function call(persona: Persona, method: string, path: string, body?: unknown) {
  const r = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'x-auth-token': tokens[persona], ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

/** A fresh policy of project A (with one resource) made by the member. */
async function policyOfA() {
  const p = await call('member', 'POST', '/v1/policies', {
    policy: { name: `p-${randomUUID().slice(0, 8)}` },
  });
  expect(p.status).toBe(201);
  const r = await call('member', 'POST', `/v1/policies/${p.body.policy.id}/resources`, {
    resource: {
      resource_id: 'srv-1',
      resource_type: 'Dragon::Test::Sleeper',
      action: 'test-sleeper',
      options: { sleep_ms: 5 },
    },
  });
  expect(r.status).toBe(201);
  return p.body.policy.id as string;
}

async function executionOfA(): Promise<string> {
  const ex = await createExecution(db, {
    kind: 'protect',
    project_id: projectA,
    steps: [sleeperStep('long', { sleep_ms: 60_000 })],
  });
  return ex.id;
}

type Case = [name: string, run: (p: Persona) => Promise<number>, expected: Record<Persona, number>];

const cases: Case[] = [
  [
    'GET /v1/actions',
    async (p) => (await call(p, 'GET', '/v1/actions')).status,
    { reader: 200, member: 200, admin: 200, other: 200 },
  ],
  [
    'GET /v1/actions/{name}',
    async (p) => (await call(p, 'GET', '/v1/actions/test-sleeper')).status,
    { reader: 200, member: 200, admin: 200, other: 200 },
  ],
  [
    'GET /v1/policies',
    async (p) => (await call(p, 'GET', '/v1/policies')).status,
    { reader: 200, member: 200, admin: 200, other: 200 },
  ],
  [
    'GET /v1/policies?all_projects=true',
    async (p) => (await call(p, 'GET', '/v1/policies?all_projects=true')).status,
    { reader: 403, member: 403, admin: 200, other: 403 },
  ],
  [
    'POST /v1/policies',
    async (p) =>
      (await call(p, 'POST', '/v1/policies', { policy: { name: `n-${p}-${randomUUID().slice(0, 6)}` } }))
        .status,
    { reader: 403, member: 201, admin: 201, other: 201 },
  ],
  [
    'GET /v1/policies/{id}',
    async (p) => (await call(p, 'GET', `/v1/policies/${await policyOfA()}`)).status,
    { reader: 200, member: 200, admin: 200, other: 404 },
  ],
  [
    'PATCH /v1/policies/{id}',
    async (p) =>
      (await call(p, 'PATCH', `/v1/policies/${await policyOfA()}`, { policy: { description: 'x' } })).status,
    { reader: 403, member: 200, admin: 200, other: 404 },
  ],
  [
    'DELETE /v1/policies/{id}',
    async (p) => (await call(p, 'DELETE', `/v1/policies/${await policyOfA()}`)).status,
    { reader: 403, member: 204, admin: 204, other: 404 },
  ],
  [
    'GET /v1/policies/{id}/resources',
    async (p) => (await call(p, 'GET', `/v1/policies/${await policyOfA()}/resources`)).status,
    { reader: 200, member: 200, admin: 200, other: 404 },
  ],
  [
    'POST /v1/policies/{id}/resources',
    async (p) =>
      (
        await call(p, 'POST', `/v1/policies/${await policyOfA()}/resources`, {
          resource: { resource_id: 'srv-2', resource_type: 'Dragon::Test::Sleeper', action: 'test-sleeper' },
        })
      ).status,
    { reader: 403, member: 201, admin: 201, other: 404 },
  ],
  [
    'GET /v1/policies/{id}/resources/{rid}',
    async (p) => (await call(p, 'GET', `/v1/policies/${await policyOfA()}/resources/srv-1`)).status,
    { reader: 200, member: 200, admin: 200, other: 404 },
  ],
  [
    'PATCH /v1/policies/{id}/resources/{rid}',
    async (p) =>
      (
        await call(p, 'PATCH', `/v1/policies/${await policyOfA()}/resources/srv-1`, {
          resource: { required: false },
        })
      ).status,
    { reader: 403, member: 200, admin: 200, other: 404 },
  ],
  [
    'DELETE /v1/policies/{id}/resources/{rid}',
    async (p) => (await call(p, 'DELETE', `/v1/policies/${await policyOfA()}/resources/srv-1`)).status,
    { reader: 403, member: 204, admin: 204, other: 404 },
  ],
  [
    'GET /v1/executions',
    async (p) => (await call(p, 'GET', '/v1/executions')).status,
    { reader: 200, member: 200, admin: 200, other: 200 },
  ],
  [
    'GET /v1/executions/{id}',
    async (p) => (await call(p, 'GET', `/v1/executions/${await executionOfA()}`)).status,
    { reader: 200, member: 200, admin: 200, other: 404 },
  ],
  [
    'POST /v1/executions/{id}/cancel',
    async (p) => (await call(p, 'POST', `/v1/executions/${await executionOfA()}/cancel`)).status,
    { reader: 403, member: 202, admin: 202, other: 404 },
  ],
  [
    'GET /v1/services',
    async (p) => (await call(p, 'GET', '/v1/services')).status,
    { reader: 403, member: 403, admin: 200, other: 403 },
  ],
];

describe('every route for every persona (real Keystone tokens, default policy, PostgreSQL)', () => {
  for (const [name, run, expected] of cases) {
    it(name, async () => {
      const got = {} as Record<Persona, number>;
      for (const p of PERSONAS) got[p] = await run(p);
      expect(got).toEqual(expected);
    });
  }

  it('shows another project none of project A policies, even by name filter', async () => {
    const id = await policyOfA();
    const { body: mine } = await call('reader', 'GET', '/v1/policies');
    expect(mine.policies.map((p: { id: string }) => p.id)).toContain(id);
    const { body: theirs } = await call('other', 'GET', '/v1/policies');
    expect(theirs.policies.every((p: { project_id: string }) => p.project_id !== projectA)).toBe(true);
  });

  it('lists the actions the running engine loaded, with their option schemas', async () => {
    const { body } = await call('reader', 'GET', '/v1/actions');
    expect(body.actions).toEqual([
      expect.objectContaining({
        name: 'test-sleeper',
        resource_type: 'Dragon::Test::Sleeper',
        options_schema: expect.any(Object),
      }),
    ]);
  });

  it('refuses a request without a token, or with a forged one, with the Keystone challenge', async () => {
    const r = await fetch(`${api.url}/v1/policies`);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(`Keystone uri="${keystone.url}/v3"`);
    const [h, , sig] = tokens.member.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'x', exp: 9999999999 })).toString('base64url')}.${sig}`;
    const f = await fetch(`${api.url}/v1/policies`, { headers: { 'x-auth-token': forged } });
    expect(f.status).toBe(401);
    expect((await json(f)).error).toMatchObject({ code: 401, title: 'Unauthorized' });
  });
});

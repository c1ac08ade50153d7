import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJwsKeys } from '../../../services/cloudsim/jws-keys.js';
import { type RunningKeystone, startKeystone } from '../../../services/cloudsim/keystone.js';
import { TokenProvider } from '../../../services/cloudsim/tokens.js';
import type { KeystoneSession } from '../../../services/common/openstack/session.js';
import {
  type Api,
  addTenantUser,
  captureLogs,
  dragonSession,
  issueToken,
  json,
  startApi,
  whoami,
} from './helpers.js';

let ks: RunningKeystone;
let session: KeystoneSession;
const opened: Api[] = [];

beforeAll(async () => {
  ks = await startKeystone({ port: 0 });
  addTenantUser(ks, 'demo', 'DEMO_PASS');
  session = dragonSession(ks);
});

afterAll(async () => {
  for (const api of opened) await api.close();
  await session.close();
  await ks.close();
});

async function api(
  authtoken: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Promise<Api> {
  const a = await startApi({
    session,
    authtoken: {
      auth_url: `${ks.url}/v3`,
      jws_public_key_repository: join(ks.keyDir, 'public'),
      ...authtoken,
    },
    ...extra,
  });
  opened.push(a);
  return a;
}

describe('auth middleware (keystone)', () => {
  it('accepts a valid token and builds the request context from Keystone', async () => {
    const a = await api();
    const token = await issueToken(ks, 'demo', 'DEMO_PASS');
    const globalId = 'req-0b9a4d34-6f0e-4c55-9d8e-0123456789ab';
    const res = await whoami(a, { 'X-Auth-Token': token, 'X-OpenStack-Request-ID': globalId });
    expect(res.status).toBe(200);
    const ctx = await json(res);
    expect(ctx.userName).toBe('demo');
    expect(ctx.projectName).toBe('demo');
    expect(ctx.projectDomainId).toBe('default');
    expect(ctx.roles.sort()).toEqual(['member', 'reader']);
    expect(ctx.isAdminProject).toBe(false);
    expect(ctx.requestId).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(ctx.globalRequestId).toBe(globalId);
    expect(JSON.stringify(ctx)).not.toContain(token);
  });

  it('ignores a malformed X-OpenStack-Request-ID', async () => {
    const a = await api();
    const token = await issueToken(ks, 'demo', 'DEMO_PASS');
    const res = await whoami(a, { 'X-Auth-Token': token, 'X-OpenStack-Request-ID': 'req-<script>' });
    expect((await json(res)).globalRequestId).toBeUndefined();
  });

  it('refuses a request without a token with 401 and WWW-Authenticate', async () => {
    const a = await api({ www_authenticate_uri: 'https://keystone.example.com/v3' });
    const res = await whoami(a);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Keystone uri="https://keystone.example.com/v3"');
    const body = await json(res);
    expect(body.error.message).toBe('The request you have made requires authentication.');
  });

  it('caches a validation: the second request does not reach Keystone', async () => {
    const a = await api();
    const token = await issueToken(ks, 'demo', 'DEMO_PASS');
    const before = ks.store.stats.validations;
    expect((await whoami(a, { 'X-Auth-Token': token })).status).toBe(200);
    expect(ks.store.stats.validations).toBe(before + 1);
    expect((await whoami(a, { 'X-Auth-Token': token })).status).toBe(200);
    expect(ks.store.stats.validations).toBe(before + 1);
  });

  it('shares one Keystone call between concurrent requests with the same token', async () => {
    const a = await api();
    const token = await issueToken(ks, 'demo', 'DEMO_PASS');
    const before = ks.store.stats.validations;
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => whoami(a, { 'X-Auth-Token': token })));
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(ks.store.stats.validations).toBe(before + 1);
  });

  it('refuses a token signed by another key without asking Keystone', async () => {
    const a = await api();
    const otherKeys = await loadJwsKeys(mkdtempSync(join(tmpdir(), 'forger-')));
    // Same claims a genuine token would have, signed by a key Keystone never had.
    const forged = (
      await new TokenProvider(ks.store, otherKeys).authenticate({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'ADMIN_PASS' } },
          },
          scope: { project: { name: 'admin', domain: { name: 'Default' } } },
        },
      })
    ).token;
    const before = ks.store.stats.validations;
    const res = await whoami(a, { 'X-Auth-Token': forged });
    expect(res.status).toBe(401);
    expect(ks.store.stats.validations).toBe(before);
  });

  it('refuses an unsigned (alg none) JWT without asking Keystone', async () => {
    const a = await api();
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'x', exp: 9999999999 })}.`;
    const before = ks.store.stats.validations;
    expect((await whoami(a, { 'X-Auth-Token': none })).status).toBe(401);
    expect(ks.store.stats.validations).toBe(before);
  });

  it('refuses an expired JWS token offline, and online when no key repository is set', async () => {
    const keys = await loadJwsKeys(ks.keyDir);
    const twoHoursAgo = new TokenProvider(ks.store, keys, { clock: () => Date.now() - 7_200_000 });
    const { token } = await twoHoursAgo.authenticate({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'demo', domain: { name: 'Default' }, password: 'DEMO_PASS' } },
        },
      },
    });
    const offline = await api();
    let before = ks.store.stats.validations;
    expect((await whoami(offline, { 'X-Auth-Token': token })).status).toBe(401);
    expect(ks.store.stats.validations).toBe(before);

    const online = await api({ jws_public_key_repository: '' });
    before = ks.store.stats.validations;
    expect((await whoami(online, { 'X-Auth-Token': token })).status).toBe(401);
    expect(ks.store.stats.validations).toBe(before + 1);
  });

  it('never serves a cached validation past the token expiry', async () => {
    const shortKs = await startKeystone({ tokenExpiration: 2 });
    addTenantUser(shortKs, 'demo', 'DEMO_PASS');
    const s = dragonSession(shortKs);
    const a = await startApi({ session: s, authtoken: { auth_url: shortKs.url, token_cache_time: 300 } });
    try {
      const token = await issueToken(shortKs, 'demo', 'DEMO_PASS');
      expect((await whoami(a, { 'X-Auth-Token': token })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2100));
      expect((await whoami(a, { 'X-Auth-Token': token })).status).toBe(401);
    } finally {
      await a.close();
      await s.close();
      await shortKs.close();
    }
  });

  it('refuses a revoked token at once without cache, and after token_cache_time with it', async () => {
    let offset = 0;
    const noCache = await api({ token_cache_time: 0 });
    const cached = await api({ token_cache_time: 300 }, { clock: () => Date.now() + offset });
    const token = await issueToken(ks, 'demo', 'DEMO_PASS');
    expect((await whoami(noCache, { 'X-Auth-Token': token })).status).toBe(200);
    expect((await whoami(cached, { 'X-Auth-Token': token })).status).toBe(200);

    const admin = await issueToken(ks, 'admin', 'ADMIN_PASS');
    const del = await fetch(`${ks.url}/v3/auth/tokens`, {
      method: 'DELETE',
      headers: { 'X-Auth-Token': admin, 'X-Subject-Token': token },
    });
    expect(del.status).toBe(204);

    expect((await whoami(noCache, { 'X-Auth-Token': token })).status).toBe(401);
    // keystonemiddleware semantics: a cached validation stands until the cache entry expires.
    expect((await whoami(cached, { 'X-Auth-Token': token })).status).toBe(200);
    offset = 301_000;
    expect((await whoami(cached, { 'X-Auth-Token': token })).status).toBe(401);
  });

  it('answers 503, never 200, when Keystone is unreachable or failing', async () => {
    const a = await api();
    const warm = await issueToken(ks, 'demo', 'DEMO_PASS');
    expect((await whoami(a, { 'X-Auth-Token': warm })).status).toBe(200);
    const fresh = await issueToken(ks, 'demo', 'DEMO_PASS');
    try {
      ks.setDown(true);
      const res = await whoami(a, { 'X-Auth-Token': fresh });
      expect(res.status).toBe(503);
      expect((await json(res)).error.code).toBe(503);
      // A token validated before the outage is still served from the cache.
      expect((await whoami(a, { 'X-Auth-Token': warm })).status).toBe(200);
      ks.setDown('503');
      expect((await whoami(a, { 'X-Auth-Token': fresh })).status).toBe(503);
    } finally {
      ks.setDown(false);
    }
    expect((await whoami(a, { 'X-Auth-Token': fresh })).status).toBe(200);
  });

  it('answers 503 when Dragon’s own service credentials are wrong', async () => {
    const bad = await startApi({
      authtoken: { auth_url: ks.url, username: 'dragon', password: 'wrong', http_request_max_retries: 0 },
    });
    opened.push(bad);
    const token = await issueToken(ks, 'demo', 'DEMO_PASS');
    expect((await whoami(bad, { 'X-Auth-Token': token })).status).toBe(503);
  });

  it('validates X-Service-Token and records the service user in the context', async () => {
    const a = await api();
    const user = await issueToken(ks, 'demo', 'DEMO_PASS');
    const service = await session.getToken();
    const res = await whoami(a, { 'X-Auth-Token': user, 'X-Service-Token': service });
    expect(res.status).toBe(200);
    const ctx = await json(res);
    expect(ctx.userName).toBe('demo');
    expect(ctx.serviceUserId).toBe(ks.seed!.dragonUserId);
    expect(ctx.serviceRoles).toContain('service');

    expect((await whoami(a, { 'X-Auth-Token': user, 'X-Service-Token': 'garbage' })).status).toBe(401);
  });

  it('enforces service_token_roles only when service_token_roles_required is set', async () => {
    const user = await issueToken(ks, 'demo', 'DEMO_PASS');
    // A tenant token presented as a service token lacks the service role.
    const notService = await issueToken(ks, 'demo', 'DEMO_PASS');
    const lax = await api({ service_token_roles_required: false });
    const strict = await api({ service_token_roles_required: true });
    expect((await whoami(lax, { 'X-Auth-Token': user, 'X-Service-Token': notService })).status).toBe(200);
    expect((await whoami(strict, { 'X-Auth-Token': user, 'X-Service-Token': notService })).status).toBe(401);
  });

  it('never logs the token, and tags log lines with the request id', async () => {
    const logs = captureLogs();
    const a = await api({}, { logger: logs.logger });
    const token = await issueToken(ks, 'demo', 'DEMO_PASS');
    const revokedLater = await issueToken(ks, 'demo', 'DEMO_PASS');
    await whoami(a, { 'X-Auth-Token': token });
    await whoami(a, { 'X-Auth-Token': `${token}x` });
    await whoami(a, { 'X-Auth-Token': revokedLater, 'X-Service-Token': 'garbage' });
    const all = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(all).not.toContain(token);
    expect(all).not.toContain(revokedLater);
    expect(all).not.toContain('DRAGON_PASS');
    for (const line of logs.lines.filter((l) => l.includes('refused') || l.includes('authenticated')))
      expect(JSON.parse(line).request_id).toMatch(/^req-/);
  });
});

describe('auth middleware (noauth)', () => {
  it('takes user, project and roles from X-Auth-Token and warns loudly at start', async () => {
    const logs = captureLogs();
    const before = ks.store.stats.validations;
    const a = await startApi({ strategy: 'noauth', logger: logs.logger });
    opened.push(a);
    expect(logs.lines.join('')).toMatch(/noauth/);
    expect(JSON.parse(logs.lines[0]).level).toBeGreaterThanOrEqual(40);

    const plain = await json(await whoami(a, { 'X-Auth-Token': 'alice:proj1' }));
    expect(plain).toMatchObject({ userId: 'alice', projectId: 'proj1' });
    expect(plain.roles.sort()).toEqual(['member', 'reader']);

    const admin = await json(await whoami(a, { 'X-Auth-Token': 'bob:proj2:admin' }));
    expect(admin.roles.sort()).toEqual(['admin', 'member', 'reader']);

    expect((await whoami(a)).status).toBe(401);
    expect(ks.store.stats.validations).toBe(before);
  });
});

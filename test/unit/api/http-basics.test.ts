import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApiResponse, startTestApi, type TestApi } from '../../support/api-harness.js';

const REQ_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MEMBER = 'alice:p1:member,reader';

// Booting the embedded PostgreSQL takes a few seconds on a busy machine.
vi.setConfig({ hookTimeout: 120_000, testTimeout: 60_000 });

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({
    DRAGON_CORS__ALLOWED_ORIGIN: 'https://dashboard.example.com',
  });
});
afterAll(async () => {
  await api?.close();
});

function expectErrorBody(res: ApiResponse, code: number) {
  expect(res.body.error).toMatchObject({ code, title: expect.any(String), message: expect.any(String) });
  expect(res.body.error.request_id).toBe(res.headers.get('x-openstack-request-id'));
}

describe('request ids', () => {
  it('puts a fresh request id on successes, errors and unknown routes', async () => {
    const ok = await api.request('GET', '/');
    const denied = await api.request('GET', '/v1/policies');
    const missing = await api.request('GET', '/nothing/here', { token: MEMBER });
    for (const res of [ok, denied, missing])
      expect(res.headers.get('x-openstack-request-id')).toMatch(REQ_ID);
    const ids = new Set([ok, denied, missing].map((r) => r.headers.get('x-openstack-request-id')));
    expect(ids.size).toBe(3);
    expect(denied.status).toBe(401);
    expectErrorBody(denied, 401);
    expect(missing.status).toBe(404);
    expectErrorBody(missing, 404);
  });

  it('keeps a caller-supplied global request id out of the response id but logs it', async () => {
    const global = 'req-12345678-1234-1234-1234-123456789abc';
    const res = await api.request('GET', '/v1/policies', {
      token: MEMBER,
      headers: { 'X-OpenStack-Request-ID': global },
    });
    const own = res.headers.get('x-openstack-request-id');
    expect(own).not.toBe(global);
    const line = api.logs.find((l) => l.request_id === own);
    expect(line).toMatchObject({ global_request_id: global, status: 200, method: 'GET' });
  });

  it('never logs the token', async () => {
    await api.request('GET', '/v1/policies', { token: 'secretuser:p1:member' });
    expect(JSON.stringify(api.logs)).not.toContain('secretuser:p1:member');
  });
});

describe('version discovery', () => {
  it('lists v1 at the root without a token', async () => {
    const res = await api.request('GET', '/');
    expect(res.status).toBe(300);
    expect(res.body.versions).toHaveLength(1);
    expect(res.body.versions[0]).toMatchObject({ id: 'v1.0', status: 'CURRENT', min_version: '1.0' });
    expect(res.body.versions[0].links[0].href).toBe(`${api.url}/v1/`);
  });

  it('shows the v1 document without a token', async () => {
    const res = await api.request('GET', '/v1/');
    expect(res.status).toBe(200);
    expect(res.body.version.id).toBe('v1.0');
  });
});

describe('microversions', () => {
  it('defaults to 1.0 and says so', async () => {
    const res = await api.request('GET', '/');
    expect(res.headers.get('openstack-api-version')).toBe('disaster-recovery 1.0');
    expect(res.headers.get('vary')).toContain('OpenStack-API-Version');
  });

  it('accepts latest and an explicit supported version among other services', async () => {
    const latest = await api.request('GET', '/v1/', {
      headers: { 'OpenStack-API-Version': 'disaster-recovery latest' },
    });
    expect(latest.headers.get('openstack-api-version')).toBe(
      `disaster-recovery ${latest.body.version.max_version}`,
    );
    const mixed = await api.request('GET', '/v1/', {
      headers: { 'OpenStack-API-Version': 'compute 2.90, disaster-recovery 1.0' },
    });
    expect(mixed.status).toBe(200);
    expect(mixed.headers.get('openstack-api-version')).toBe('disaster-recovery 1.0');
  });

  it.each(['disaster-recovery 9.9', 'disaster-recovery 1.x', 'disaster-recovery one'])(
    'refuses %s with 406',
    async (header) => {
      const res = await api.request('GET', '/v1/', { headers: { 'OpenStack-API-Version': header } });
      expect(res.status).toBe(406);
      expectErrorBody(res, 406);
    },
  );
});

describe('error bodies', () => {
  it('400 on malformed JSON', async () => {
    const res = await api.request('POST', '/v1/policies', {
      token: MEMBER,
      rawBody: '{"policy": {"name": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expectErrorBody(res, 400);
  });

  it('400 naming an unknown field', async () => {
    const res = await api.request('POST', '/v1/policies', {
      token: MEMBER,
      body: { policy: { name: 'x', colour: 'blue' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('colour');
  });

  it('405 with Allow on a known path', async () => {
    const res = await api.request('PUT', '/v1/policies', { token: MEMBER, body: {} });
    expect(res.status).toBe(405);
    expectErrorBody(res, 405);
    expect(res.headers.get('allow')).toContain('GET');
    expect(res.headers.get('allow')).toContain('POST');
    expect(res.body.error.message).toContain('/v1/policies');
  });

  it('413 on a body over 1 MiB', async () => {
    const res = await api.request('POST', '/v1/policies', {
      token: MEMBER,
      body: { policy: { name: 'big', description: 'x'.repeat(1024 * 1024 + 10) } },
    });
    expect(res.status).toBe(413);
    expectErrorBody(res, 413);
  });

  it('415 on a body that is not JSON', async () => {
    const res = await api.request('POST', '/v1/policies', {
      token: MEMBER,
      rawBody: 'name=x',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expectErrorBody(res, 415);
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin without a token', async () => {
    const res = await api.request('OPTIONS', '/v1/policies', {
      headers: {
        Origin: 'https://dashboard.example.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'X-Auth-Token, Content-Type',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://dashboard.example.com');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-auth-token');
    expect(res.headers.get('x-openstack-request-id')).toMatch(REQ_ID);
  });

  it('gives no CORS headers to another origin', async () => {
    const res = await api.request('OPTIONS', '/v1/policies', {
      headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exposes the request id header on real requests', async () => {
    const res = await api.request('GET', '/', { headers: { Origin: 'https://dashboard.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://dashboard.example.com');
    expect(res.headers.get('access-control-expose-headers')).toContain('X-OpenStack-Request-ID');
  });
});

describe('healthcheck', () => {
  it('is ok without a token and hides details', async () => {
    const res = await api.request('GET', '/healthcheck?detail=true');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('shows details to an admin only', async () => {
    const member = await api.request('GET', '/healthcheck?detail=true', { token: MEMBER });
    expect(member.body.checks).toBeUndefined();
    const admin = await api.request('GET', '/healthcheck?detail=true', { token: 'root:admin:admin' });
    expect(admin.body).toEqual({ status: 'ok', checks: { database: 'ok', messaging: 'ok' } });
  });

  it('reports degraded with 503 when messaging is down', async () => {
    api.transport.state = 'down';
    try {
      const res = await api.request('GET', '/healthcheck?detail=true', { token: 'root:admin:admin' });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'degraded', checks: { database: 'ok', messaging: 'down' } });
    } finally {
      api.transport.state = 'ok';
    }
  });
});

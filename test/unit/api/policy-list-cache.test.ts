/**
 * The policy list cache must never be noticed: every change — through this
 * API, or written to the database by another process (simulated here by SQL
 * that bypasses the API) — shows in the very next list.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api-harness.js';

const member = (p: string) => `alice:${p}:member,reader`;
const reader = (p: string) => `rita:${p}:reader`;

vi.setConfig({ hookTimeout: 120_000, testTimeout: 60_000 });

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

async function create(project: string, name: string) {
  const res = await api.request('POST', '/v1/policies', {
    token: member(project),
    body: { policy: { name } },
  });
  expect(res.status).toBe(201);
  return res.body.policy as { id: string; name: string };
}

async function list(project: string, query = '') {
  const res = await api.request('GET', `/v1/policies${query}`, { token: reader(project) });
  expect(res.status).toBe(200);
  return res;
}

const names = (res: { body: { policies: Array<{ name: string }> } }) => res.body.policies.map((p) => p.name);

describe('policy list cache', () => {
  it('answers a repeated list with the same body and headers as the first time', async () => {
    await create('lc-same', 'a');
    const first = await list('lc-same');
    const second = await list('lc-same');
    expect(second.text).toBe(first.text);
    expect(second.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(second.headers.get('x-openstack-request-id')).toMatch(/^req-/);
    expect(second.headers.get('x-openstack-request-id')).not.toBe(
      first.headers.get('x-openstack-request-id'),
    );
  });

  it('shows changes made through the API at once', async () => {
    const a = await create('lc-api', 'a');
    expect(names(await list('lc-api'))).toEqual(['a']);
    await create('lc-api', 'b');
    expect(names(await list('lc-api'))).toEqual(['b', 'a']);
    await api.request('PATCH', `/v1/policies/${a.id}`, {
      token: member('lc-api'),
      body: { policy: { description: 'changed' } },
    });
    expect((await list('lc-api')).body.policies[1].description).toBe('changed');
    await api.request('DELETE', `/v1/policies/${a.id}`, { token: member('lc-api') });
    expect(names(await list('lc-api'))).toEqual(['b']);
  });

  it('shows changes another process wrote straight to the database', async () => {
    const p = await create('lc-sql', 'web');
    expect((await list('lc-sql')).body.policies[0]).toMatchObject({ status: 'available', resource_count: 0 });

    await api.db('policies').where({ id: p.id }).update({ status: 'error' });
    expect((await list('lc-sql')).body.policies[0].status).toBe('error');

    const now = new Date();
    await api.db('policy_resources').insert({
      id: randomUUID(),
      policy_id: p.id,
      project_id: 'lc-sql',
      resource_id: 'vm-1',
      resource_type: 'OS::Nova::Server',
      action: 'server-snapshot',
      created_at: now,
      updated_at: now,
    });
    expect((await list('lc-sql')).body.policies[0].resource_count).toBe(1);

    await api.db('policy_resources').where({ policy_id: p.id }).delete();
    expect((await list('lc-sql')).body.policies[0].resource_count).toBe(0);

    await api.db('policies').where({ id: p.id }).delete();
    expect(names(await list('lc-sql'))).toEqual([]);
  });

  it("never answers one project with another's page, nor one query with another's", async () => {
    await create('lc-one', 'mine');
    await create('lc-two', 'theirs');
    expect(names(await list('lc-one'))).toEqual(['mine']);
    expect(names(await list('lc-two'))).toEqual(['theirs']);
    await create('lc-one', 'second');

    const page = await list('lc-one', '?limit=1');
    expect(names(page)).toEqual(['second']);
    expect(page.body.policies_links[0].href).toContain('limit=1');
    expect(names(await list('lc-one', '?limit=1&sort=name:asc'))).toEqual(['mine']);
    expect(names(await list('lc-one', '?name=mine'))).toEqual(['mine']);
    expect(names(await list('lc-two'))).toEqual(['theirs']);
  });

  it('still checks the caller on every request', async () => {
    await create('lc-auth', 'a');
    await list('lc-auth');
    const checked = api.enforcer.checked.length;
    await list('lc-auth');
    expect(api.enforcer.checked.slice(checked)).toContain('dragon:policy:list');
    // Same project, same URL, but no role that may list: refused although the page is cached.
    const denied = await api.request('GET', '/v1/policies', { token: 'nobody:lc-auth:' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe(403);
    expect((await api.request('GET', '/v1/policies')).status).toBe(401);
  });
});

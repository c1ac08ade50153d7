import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api-harness.js';

// Each test uses its own project so that tests never see each other's rows.
const member = (p: string) => `alice:${p}:member,reader`;
const reader = (p: string) => `rita:${p}:reader`;
const ADMIN = 'root:adminproject:admin';
const ISO_SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

// Booting the embedded PostgreSQL takes a few seconds on a busy machine.
vi.setConfig({ hookTimeout: 120_000, testTimeout: 60_000 });

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

async function create(project: string, name: string, extra: Record<string, unknown> = {}) {
  const res = await api.request('POST', '/v1/policies', {
    token: member(project),
    body: { policy: { name, ...extra } },
  });
  expect(res.status).toBe(201);
  return res.body.policy;
}

describe('policy CRUD', () => {
  it('creates, shows, updates and deletes a policy', async () => {
    const created = await api.request('POST', '/v1/policies', {
      token: member('crud'),
      body: { policy: { name: 'web', description: 'web tier', backup_site: 'backup' } },
    });
    expect(created.status).toBe(201);
    const p = created.body.policy;
    expect(p).toMatchObject({
      name: 'web',
      description: 'web tier',
      backup_site: 'backup',
      status: 'available',
      project_id: 'crud',
      user_id: 'alice',
      resource_count: 0,
    });
    expect(p.created_at).toMatch(ISO_SECOND);
    expect(p.updated_at).toMatch(ISO_SECOND);
    expect(created.headers.get('location')).toBe(`${api.url}/v1/policies/${p.id}`);

    const shown = await api.request('GET', `/v1/policies/${p.id}`, { token: reader('crud') });
    expect(shown.status).toBe(200);
    expect(shown.body.policy).toEqual(p);

    const patched = await api.request('PATCH', `/v1/policies/${p.id}`, {
      token: member('crud'),
      body: { policy: { description: 'web and db' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.policy).toMatchObject({ name: 'web', description: 'web and db' });

    const deleted = await api.request('DELETE', `/v1/policies/${p.id}`, { token: member('crud') });
    expect(deleted.status).toBe(204);
    expect((await api.request('GET', `/v1/policies/${p.id}`, { token: member('crud') })).status).toBe(404);
  });

  it('requires a name', async () => {
    const res = await api.request('POST', '/v1/policies', { token: member('noname'), body: { policy: {} } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('name');
    const blank = await api.request('POST', '/v1/policies', {
      token: member('noname'),
      body: { policy: { name: '  ' } },
    });
    expect(blank.status).toBe(400);
    expect(blank.body.error.message).toContain('blank');
  });

  it('refuses a duplicate name in one project with 409 but allows it in another', async () => {
    await create('dup1', 'db');
    const again = await api.request('POST', '/v1/policies', {
      token: member('dup1'),
      body: { policy: { name: 'db' } },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe(409);
    await create('dup2', 'db');
    const other = await create('dup1', 'other');
    const rename = await api.request('PATCH', `/v1/policies/${other.id}`, {
      token: member('dup1'),
      body: { policy: { name: 'db' } },
    });
    expect(rename.status).toBe(409);
  });
});

describe('project isolation and personas', () => {
  it("answers 404 for another project's policy, exactly as for a missing one", async () => {
    const p = await create('owner', 'private');
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { policy: { description: 'x' } }],
      ['DELETE', undefined],
    ] as const) {
      const res = await api.request(method, `/v1/policies/${p.id}`, { token: member('intruder'), body });
      expect(res.status).toBe(404);
      const missing = await api.request(method, `/v1/policies/00000000-0000-4000-8000-000000000000`, {
        token: member('intruder'),
        body,
      });
      expect(missing.status).toBe(404);
    }
    const list = await api.request('GET', '/v1/policies', { token: member('intruder') });
    expect(list.body.policies.map((x: { id: string }) => x.id)).not.toContain(p.id);
  });

  it('lets a reader read but not write (403)', async () => {
    const p = await create('readers', 'app');
    expect((await api.request('GET', `/v1/policies/${p.id}`, { token: reader('readers') })).status).toBe(200);
    const write = await api.request('PATCH', `/v1/policies/${p.id}`, {
      token: reader('readers'),
      body: { policy: { description: 'x' } },
    });
    expect(write.status).toBe(403);
    expect(write.body.error.title).toBe('Forbidden');
    expect((await api.request('DELETE', `/v1/policies/${p.id}`, { token: reader('readers') })).status).toBe(
      403,
    );
    const createRes = await api.request('POST', '/v1/policies', {
      token: reader('readers'),
      body: { policy: { name: 'nope' } },
    });
    expect(createRes.status).toBe(403);
  });

  it('lets an admin see all projects only when asking, and others never', async () => {
    const a = await create('adm-a', 'one');
    const b = await create('adm-b', 'two');
    const all = await api.request('GET', '/v1/policies?all_projects=true&limit=1000', { token: ADMIN });
    const ids = all.body.policies.map((x: { id: string }) => x.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    const own = await api.request('GET', '/v1/policies', { token: ADMIN });
    expect(own.body.policies).toEqual([]);
    const one = await api.request('GET', '/v1/policies?all_projects=true&project_id=adm-b', { token: ADMIN });
    expect(one.body.policies.map((x: { id: string }) => x.id)).toEqual([b.id]);
    expect((await api.request('GET', `/v1/policies/${a.id}`, { token: ADMIN })).status).toBe(200);
    const denied = await api.request('GET', '/v1/policies?all_projects=true', { token: member('adm-a') });
    expect(denied.status).toBe(403);
  });

  it('answers 401 without a token', async () => {
    expect((await api.request('GET', '/v1/policies')).status).toBe(401);
  });
});

describe('policy lists', () => {
  it('walks a collection of 25 with limit 10 by following next links', async () => {
    const project = 'paging';
    const made = new Set<string>();
    for (let i = 0; i < 25; i++) made.add((await create(project, `p-${String(i).padStart(2, '0')}`)).id);
    const seen: string[] = [];
    let url: string | undefined = '/v1/policies?limit=10&sort=name:asc';
    const pageSizes: number[] = [];
    while (url) {
      const res = await api.request('GET', url, { token: reader(project) });
      expect(res.status).toBe(200);
      pageSizes.push(res.body.policies.length);
      seen.push(...res.body.policies.map((p: { id: string }) => p.id));
      url = res.body.policies_links?.find((l: { rel: string }) => l.rel === 'next')?.href;
      if (url) expect(url).toContain('sort=name%3Aasc');
    }
    expect(pageSizes).toEqual([10, 10, 5]);
    expect(new Set(seen)).toEqual(made);
    expect(seen).toHaveLength(25);
  });

  it('sorts by the requested keys and refuses unknown ones', async () => {
    const project = 'sorting';
    for (const name of ['b', 'c', 'a']) await create(project, name);
    const asc = await api.request('GET', '/v1/policies?sort=name:asc', { token: reader(project) });
    expect(asc.body.policies.map((p: { name: string }) => p.name)).toEqual(['a', 'b', 'c']);
    const desc = await api.request('GET', '/v1/policies?sort=name:desc', { token: reader(project) });
    expect(desc.body.policies.map((p: { name: string }) => p.name)).toEqual(['c', 'b', 'a']);
    expect(
      (await api.request('GET', '/v1/policies?sort=colour:asc', { token: reader(project) })).status,
    ).toBe(400);
    expect(
      (await api.request('GET', '/v1/policies?sort=name:sideways', { token: reader(project) })).status,
    ).toBe(400);
  });

  it('filters by name and refuses bad limits and markers', async () => {
    const project = 'filtering';
    await create(project, 'alpha');
    await create(project, 'beta');
    const res = await api.request('GET', '/v1/policies?name=beta', { token: reader(project) });
    expect(res.body.policies.map((p: { name: string }) => p.name)).toEqual(['beta']);
    expect(res.body.policies_links).toBeUndefined();
    expect((await api.request('GET', '/v1/policies?limit=-1', { token: reader(project) })).status).toBe(400);
    expect((await api.request('GET', '/v1/policies?marker=nope', { token: reader(project) })).status).toBe(
      400,
    );
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api-harness.js';
import { insertEngine, serverSnapshot, volumeSnapshot } from '../../support/fixtures.js';

const member = (p: string) => `alice:${p}:member,reader`;
const reader = (p: string) => `rita:${p}:reader`;

// Booting the embedded PostgreSQL takes a few seconds on a busy machine.
vi.setConfig({ hookTimeout: 120_000, testTimeout: 60_000 });

const oldCopy = { ...serverSnapshot, name: 'server-image-copy', description: 'only on a dead engine' };

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ DRAGON_ENGINE__HEARTBEAT_INTERVAL: '5' });
  // Two live engines (one older release publishing a different version of the same plugin) and one dead engine.
  await insertEngine(api.db, { host: 'engine-1', plugins: [serverSnapshot, volumeSnapshot] });
  await insertEngine(api.db, {
    host: 'engine-2',
    plugins: [{ ...serverSnapshot, version: '0.9.0' }],
    heartbeatAgoSeconds: 5,
  });
  await insertEngine(api.db, { host: 'engine-dead', plugins: [oldCopy], heartbeatAgoSeconds: 60 });
});
afterAll(async () => {
  await api?.close();
});

async function policy(project: string, name = 'app') {
  const res = await api.request('POST', '/v1/policies', {
    token: member(project),
    body: { policy: { name } },
  });
  expect(res.status).toBe(201);
  return res.body.policy as { id: string };
}

const server = (id: string, extra: Record<string, unknown> = {}) => ({
  resource: { resource_id: id, resource_type: 'OS::Nova::Server', action: 'server-snapshot', ...extra },
});

describe('actions', () => {
  it('lists the union of plugins of live engines only, once each', async () => {
    const res = await api.request('GET', '/v1/actions', { token: reader('acts') });
    expect(res.status).toBe(200);
    expect(res.body.actions.map((a: { name: string }) => a.name)).toEqual([
      'server-snapshot',
      'volume-snapshot',
    ]);
    // The most recently heard-from engine's copy wins.
    expect(res.body.actions[0]).toEqual({
      name: 'server-snapshot',
      resource_type: 'OS::Nova::Server',
      description: serverSnapshot.description,
      version: '1.0.0',
      options_schema: serverSnapshot.options_schema,
    });
  });

  it('filters by resource type and shows one action', async () => {
    const res = await api.request('GET', '/v1/actions?resource_type=OS::Cinder::Volume', {
      token: reader('acts'),
    });
    expect(res.body.actions.map((a: { name: string }) => a.name)).toEqual(['volume-snapshot']);
    const one = await api.request('GET', '/v1/actions/volume-snapshot', { token: reader('acts') });
    expect(one.body.action.resource_type).toBe('OS::Cinder::Volume');
    expect(
      (await api.request('GET', '/v1/actions/server-image-copy', { token: reader('acts') })).status,
    ).toBe(404);
  });
});

describe('policy resources', () => {
  it('adds, lists, shows, updates and removes a resource, keeping resource_count', async () => {
    const p = await policy('res-crud');
    const added = await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-crud'),
      body: server('vm-1', { resource_name: 'web-1', options: { quiesce: true } }),
    });
    expect(added.status).toBe(201);
    expect(added.body.resource).toMatchObject({
      policy_id: p.id,
      resource_id: 'vm-1',
      resource_type: 'OS::Nova::Server',
      resource_name: 'web-1',
      action: 'server-snapshot',
      options: { quiesce: true },
      required: true,
    });
    expect(added.headers.get('location')).toBe(`${api.url}/v1/policies/${p.id}/resources/vm-1`);

    const shownPolicy = await api.request('GET', `/v1/policies/${p.id}`, { token: reader('res-crud') });
    expect(shownPolicy.body.policy.resource_count).toBe(1);

    const list = await api.request('GET', `/v1/policies/${p.id}/resources`, { token: reader('res-crud') });
    expect(list.body.resources.map((r: { resource_id: string }) => r.resource_id)).toEqual(['vm-1']);

    const patched = await api.request('PATCH', `/v1/policies/${p.id}/resources/vm-1`, {
      token: member('res-crud'),
      body: { resource: { required: false, options: { retries: 2 } } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.resource).toMatchObject({ required: false, options: { retries: 2 } });

    const shown = await api.request('GET', `/v1/policies/${p.id}/resources/vm-1`, {
      token: reader('res-crud'),
    });
    expect(shown.body.resource).toEqual(patched.body.resource);

    expect(
      (await api.request('DELETE', `/v1/policies/${p.id}/resources/vm-1`, { token: member('res-crud') }))
        .status,
    ).toBe(204);
    expect(
      (await api.request('GET', `/v1/policies/${p.id}/resources/vm-1`, { token: reader('res-crud') })).status,
    ).toBe(404);
  });

  it('refuses the same cloud resource twice in one policy with 409', async () => {
    const p = await policy('res-dup');
    const first = await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-dup'),
      body: server('vm-1'),
    });
    expect(first.status).toBe(201);
    const again = await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-dup'),
      body: server('vm-1'),
    });
    expect(again.status).toBe(409);
  });

  it('refuses an action that no live engine loaded, or that protects another type', async () => {
    const p = await policy('res-action');
    const unknown = await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-action'),
      body: server('vm-1', { action: 'server-image-copy' }),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('server-image-copy');
    const mismatch = await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-action'),
      body: server('vm-1', { action: 'volume-snapshot' }),
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.message).toContain('OS::Cinder::Volume');
  });

  it("validates options against the action's schema", async () => {
    const p = await policy('res-options');
    const badType = await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-options'),
      body: server('vm-1', { options: { retries: 'many' } }),
    });
    expect(badType.status).toBe(400);
    expect(badType.body.error.message).toContain('options/retries');
    expect(badType.body.error.message).toContain('integer');
    const unknownOption = await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-options'),
      body: server('vm-1', { options: { turbo: true } }),
    });
    expect(unknownOption.status).toBe(400);
    expect(unknownOption.body.error.message).toContain('turbo');
    // And on update, against the action the resource keeps.
    await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-options'),
      body: server('vm-2'),
    });
    const badPatch = await api.request('PATCH', `/v1/policies/${p.id}/resources/vm-2`, {
      token: member('res-options'),
      body: { resource: { options: { retries: -1 } } },
    });
    expect(badPatch.status).toBe(400);
  });

  it('refuses immutable or unknown fields and malformed types', async () => {
    const p = await policy('res-schema');
    const bad = await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-schema'),
      body: server('vm-1', { resource_type: 'server' }),
    });
    expect(bad.status).toBe(400);
    await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-schema'),
      body: server('vm-1'),
    });
    const immutable = await api.request('PATCH', `/v1/policies/${p.id}/resources/vm-1`, {
      token: member('res-schema'),
      body: { resource: { resource_type: 'OS::Cinder::Volume' } },
    });
    expect(immutable.status).toBe(400);
    expect(immutable.body.error.message).toContain('resource_type');
  });

  it("hides another project's policy resources (404) and keeps readers from writing (403)", async () => {
    const p = await policy('res-owner');
    await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: member('res-owner'),
      body: server('vm-1'),
    });
    expect(
      (await api.request('GET', `/v1/policies/${p.id}/resources`, { token: member('res-other') })).status,
    ).toBe(404);
    const add = await api.request('POST', `/v1/policies/${p.id}/resources`, {
      token: reader('res-owner'),
      body: server('vm-2'),
    });
    expect(add.status).toBe(403);
    const remove = await api.request('DELETE', `/v1/policies/${p.id}/resources/vm-1`, {
      token: reader('res-owner'),
    });
    expect(remove.status).toBe(403);
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api-harness.js';
import { insertEngine, insertExecution, insertStep, serverSnapshot } from '../../support/fixtures.js';

const member = (p: string) => `alice:${p}:member,reader`;
const reader = (p: string) => `rita:${p}:reader`;
const ADMIN = 'root:adminproject:admin';

// Booting the embedded PostgreSQL takes a few seconds on a busy machine.
vi.setConfig({ hookTimeout: 120_000, testTimeout: 60_000 });

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ DRAGON_ENGINE__HEARTBEAT_INTERVAL: '10' });
});
afterAll(async () => {
  await api?.close();
});

async function policy(project: string, name = 'app') {
  const res = await api.request('POST', '/v1/policies', {
    token: member(project),
    body: { policy: { name } },
  });
  return res.body.policy as { id: string };
}

describe('executions', () => {
  it('lists the project’s executions with filters and pagination, newest first', async () => {
    const p = await policy('ex-list');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        await insertExecution(api.db, {
          projectId: 'ex-list',
          policyId: p.id,
          status: i % 2 ? 'succeeded' : 'failed',
          createdAt: new Date(Date.UTC(2026, 10, 26, 10, i)),
        }),
      );
    }
    await insertExecution(api.db, { projectId: 'ex-elsewhere' });
    const all = await api.request('GET', '/v1/executions', { token: reader('ex-list') });
    expect(all.status).toBe(200);
    expect(all.body.executions.map((e: { id: string }) => e.id)).toEqual([...ids].reverse());
    expect(all.body.executions[0].created_at).toBe('2026-11-26T10:04:00Z');

    const failed = await api.request('GET', `/v1/executions?status=failed&policy_id=${p.id}`, {
      token: reader('ex-list'),
    });
    expect(failed.body.executions.map((e: { status: string }) => e.status)).toEqual([
      'failed',
      'failed',
      'failed',
    ]);

    const first = await api.request('GET', '/v1/executions?limit=2&sort=created_at:asc', {
      token: reader('ex-list'),
    });
    expect(first.body.executions.map((e: { id: string }) => e.id)).toEqual(ids.slice(0, 2));
    const second = await api.request('GET', first.body.executions_links[0].href, {
      token: reader('ex-list'),
    });
    expect(second.body.executions.map((e: { id: string }) => e.id)).toEqual(ids.slice(2, 4));
  });

  it('shows an execution with its steps ordered by name, and hides other projects’', async () => {
    const id = await insertExecution(api.db, { projectId: 'ex-show', status: 'running' });
    await insertStep(api.db, id, { name: 'server-b', dependsOn: ['volume-a'] });
    await insertStep(api.db, id, { name: 'volume-a', status: 'succeeded' });
    await insertStep(api.db, id, { name: 'network-c' });
    const res = await api.request('GET', `/v1/executions/${id}`, { token: reader('ex-show') });
    expect(res.status).toBe(200);
    expect(res.body.execution).toMatchObject({ id, status: 'running', project_id: 'ex-show', progress: 0 });
    expect(res.body.execution.steps.map((s: { name: string }) => s.name)).toEqual([
      'network-c',
      'server-b',
      'volume-a',
    ]);
    expect(res.body.execution.steps[1].depends_on).toEqual(['volume-a']);
    expect((await api.request('GET', `/v1/executions/${id}`, { token: reader('ex-other') })).status).toBe(
      404,
    );
    expect((await api.request('GET', '/v1/executions/not-a-uuid', { token: reader('ex-show') })).status).toBe(
      404,
    );
  });

  it('cancels a running execution: cancelling, 202, Location, and a fanout cast to the engines', async () => {
    const id = await insertExecution(api.db, { projectId: 'ex-cancel', status: 'running' });
    const res = await api.request('POST', `/v1/executions/${id}/cancel`, { token: member('ex-cancel') });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`${api.url}/v1/executions/${id}`);
    expect(res.body.execution.status).toBe('cancelling');
    const cast = api.transport.casts.find((c) => c.args.execution_id === id);
    expect(cast).toMatchObject({
      target: { topic: 'dragon-engine', fanout: true },
      method: 'cancel_execution',
      args: { execution_id: id },
    });
    expect(cast?.ctx.requestId).toBe(res.headers.get('x-openstack-request-id'));
    // The engine also polls this flag, so a lost cast still cancels.
    expect((await api.db('executions').where({ id }).first()).cancel_requested).toBe(true);
  });

  it('cancels a pending execution outright', async () => {
    const id = await insertExecution(api.db, { projectId: 'ex-cancel', status: 'pending' });
    const res = await api.request('POST', `/v1/executions/${id}/cancel`, { token: member('ex-cancel') });
    expect(res.status).toBe(202);
    expect(res.body.execution.status).toBe('cancelled');
    expect(res.body.execution.finished_at).toMatch(/Z$/);
  });

  it('still accepts the cancel when the message bus fails', async () => {
    const id = await insertExecution(api.db, { projectId: 'ex-cancel', status: 'running' });
    api.transport.castError = new Error('broker unreachable');
    try {
      const res = await api.request('POST', `/v1/executions/${id}/cancel`, { token: member('ex-cancel') });
      expect(res.status).toBe(202);
      expect(res.body.execution.status).toBe('cancelling');
      expect(api.logs.some((l) => l.execution_id === id && l.level === 40)).toBe(true);
    } finally {
      api.transport.castError = undefined;
    }
  });

  it('refuses to cancel a finished execution (409) and lets readers not cancel (403)', async () => {
    const done = await insertExecution(api.db, { projectId: 'ex-cancel', status: 'succeeded' });
    expect(
      (await api.request('POST', `/v1/executions/${done}/cancel`, { token: member('ex-cancel') })).status,
    ).toBe(409);
    const running = await insertExecution(api.db, { projectId: 'ex-cancel', status: 'running' });
    expect(
      (await api.request('POST', `/v1/executions/${running}/cancel`, { token: reader('ex-cancel') })).status,
    ).toBe(403);
    expect(
      (await api.request('POST', `/v1/executions/${running}/cancel`, { token: member('ex-intruder') }))
        .status,
    ).toBe(404);
  });

  it('refuses to delete a policy while one of its executions runs (409), allows it once finished', async () => {
    const p = await policy('ex-delete');
    const id = await insertExecution(api.db, { projectId: 'ex-delete', policyId: p.id, status: 'running' });
    const refused = await api.request('DELETE', `/v1/policies/${p.id}`, { token: member('ex-delete') });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(id);
    await api.db('executions').where({ id }).update({ status: 'failed' });
    expect((await api.request('DELETE', `/v1/policies/${p.id}`, { token: member('ex-delete') })).status).toBe(
      204,
    );
  });
});

describe('services', () => {
  it('lists services as up or down from their heartbeat, to admins only', async () => {
    await insertEngine(api.db, { host: 'svc-up', plugins: [serverSnapshot], heartbeatAgoSeconds: 25 });
    await insertEngine(api.db, { host: 'svc-down', heartbeatAgoSeconds: 31 });
    const res = await api.request('GET', '/v1/services', { token: ADMIN });
    expect(res.status).toBe(200);
    const byHost = Object.fromEntries(res.body.services.map((s: { host: string }) => [s.host, s]));
    expect(byHost['svc-up']).toMatchObject({ binary: 'dragon-engine', state: 'up', version: '0.1.0' });
    expect(byHost['svc-up'].plugins).toEqual([
      { name: 'server-snapshot', resource_type: 'OS::Nova::Server', version: '1.0.0' },
    ]);
    expect(byHost['svc-down'].state).toBe('down');
    expect(byHost['svc-up'].last_heartbeat_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect((await api.request('GET', '/v1/services', { token: member('svc') })).status).toBe(403);
  });
});

/**
 * An action's `requires`, checked by the API when a resource is added (or
 * its action changed): volume-replication refuses a volume whose type is not
 * replicated as soon as the primary site can say so, and accepts it when
 * the site cannot answer (the protect refuses it then).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProtectStack, startProtectStack } from '../support/protect-stack.js';

let stack: ProtectStack;
let plain: string;
let replicated: string;

beforeAll(async () => {
  stack = await startProtectStack();
  const { cinder } = stack.primary.clients;
  plain = (await cinder.createVolume({ name: 'req-plain', size: 1 })).id;
  replicated = (await cinder.createVolume({ name: 'req-replicated', size: 1, volume_type: 'replicated' })).id;
  for (const id of [plain, replicated])
    await cinder.waitForVolume(id, ['available'], { intervalMs: 50, timeoutMs: 30_000 });
}, 240_000);

afterAll(async () => {
  await stack?.close();
});

async function emptyPolicy(name: string): Promise<string> {
  return stack.policy(name, []);
}

const volume = (id: string, action: string) => ({
  resource: { resource_id: id, resource_type: 'OS::Cinder::Volume', action },
});

describe('volume-replication at resource add', () => {
  it('refuses a volume whose type is not replicated, saying why, and adds nothing', async () => {
    const policyId = await emptyPolicy('req-refused');
    const r = await stack.call(
      'POST',
      `/v1/policies/${policyId}/resources`,
      volume(plain, 'volume-replication'),
    );
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(
      new RegExp(
        `Action volume-replication cannot protect OS::Cinder::Volume ${plain}: its volume type must be replicated`,
      ),
    );
    const list = await stack.call('GET', `/v1/policies/${policyId}/resources`);
    expect(list.body.resources).toEqual([]);
  });

  it('accepts a volume of a replicated type, and the same plain volume with volume-snapshot', async () => {
    const policyId = await emptyPolicy('req-accepted');
    const ok = await stack.call(
      'POST',
      `/v1/policies/${policyId}/resources`,
      volume(replicated, 'volume-replication'),
    );
    expect(ok.status).toBe(201);
    const other = await stack.call(
      'POST',
      `/v1/policies/${policyId}/resources`,
      volume(plain, 'volume-snapshot'),
    );
    expect(other.status).toBe(201);
  });

  it('refuses switching a plain volume to volume-replication', async () => {
    const policyId = await emptyPolicy('req-switch');
    await stack.call('POST', `/v1/policies/${policyId}/resources`, volume(plain, 'volume-snapshot'));
    const r = await stack.call('PATCH', `/v1/policies/${policyId}/resources/${plain}`, {
      resource: { action: 'volume-replication' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/its volume type must be replicated/);
    const shown = await stack.call('GET', `/v1/policies/${policyId}/resources/${plain}`);
    expect(shown.body.resource.action).toBe('volume-snapshot');
  });

  it('accepts the volume when the primary cannot answer; the protect then refuses it', async () => {
    const policyId = await emptyPolicy('req-unknown');
    stack.cloud.faults.RegionOne.set('volumev3', { errorRate: 1 });
    let r: Awaited<ReturnType<ProtectStack['call']>>;
    try {
      r = await stack.call('POST', `/v1/policies/${policyId}/resources`, volume(plain, 'volume-replication'));
    } finally {
      stack.cloud.faults.RegionOne.clear();
    }
    expect(r.status).toBe(201);
    const protect = await stack.call('POST', `/v1/policies/${policyId}/protect`);
    expect(protect.status).toBe(202);
    const execution = await stack.waitExecution(protect.body.execution_id);
    expect(execution.status).toBe('failed');
    expect(execution.error).toMatch(/which is not replicated; use volume-snapshot/);
  });
});

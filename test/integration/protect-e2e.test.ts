/**
 * Protection end to end over HTTP: the three-tier workload at the simulated
 * primary (RegionOne), a policy created through the API with a real Keystone
 * token (so a trust is made), resources with the four shipped actions, a
 * protect through the API run by the engine on PostgreSQL, and the checkpoint
 * checked in the backup site's Swift (RegionTwo): template, data, manifest
 * last, every SHA-256 right, the template valid for the backup site's Heat,
 * nothing temporary left at the primary. Then verify and delete.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../services/engine/bank/index.js';
import { validateWorkloadTemplate } from '../../services/engine/protect/template/index.js';
import { type ProtectStack, startProtectStack } from '../support/protect-stack.js';
import type { SiteClientsHandle } from '../support/site-clients.js';
import { buildThreeTier, type ThreeTier } from '../support/three-tier.js';

let stack: ProtectStack;
let primary: SiteClientsHandle;
let backup: SiteClientsHandle;
let workload: ThreeTier;
const call = (method: string, path: string, body?: unknown) => stack.call(method, path, body);
const waitExecution = (id: string) => stack.waitExecution(id, 240_000);

beforeAll(async () => {
  stack = await startProtectStack();
  ({ primary, backup } = stack);
  workload = await buildThreeTier(primary.clients);
}, 240_000);

afterAll(async () => {
  await stack?.close();
});

describe('protect a three-tier workload into the backup site', () => {
  let checkpointId: string;

  it('lists the shipped actions', async () => {
    const { body } = await call('GET', '/v1/actions');
    expect(body.actions.map((a: { name: string }) => a.name).sort()).toEqual([
      'image-copy',
      'server-snapshot',
      'volume-replication',
      'volume-snapshot',
    ]);
  });

  it('writes a complete, verified checkpoint to the backup site and leaves nothing behind at the primary', async () => {
    const created = await call('POST', '/v1/policies', {
      policy: { name: 'web-shop', backup_site: 'RegionTwo' },
    });
    expect(created.status).toBe(201);
    const policyId = created.body.policy.id;
    const add = (resource: Record<string, unknown>) =>
      call('POST', `/v1/policies/${policyId}/resources`, { resource });
    for (const r of [
      { resource_id: workload.servers.web.id, resource_type: 'OS::Nova::Server', action: 'image-copy' },
      { resource_id: workload.servers.app.id, resource_type: 'OS::Nova::Server', action: 'server-snapshot' },
      { resource_id: workload.servers.db.id, resource_type: 'OS::Nova::Server', action: 'image-copy' },
      {
        resource_id: workload.volumes.data.id,
        resource_type: 'OS::Cinder::Volume',
        action: 'volume-snapshot',
        options: { method: 'backup' },
      },
      {
        resource_id: workload.volumes.db.id,
        resource_type: 'OS::Cinder::Volume',
        action: 'volume-replication',
      },
    ]) {
      const res = await add(r);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const before = {
      images: (await primary.clients.glance.listImages({})).map((i) => i.id).sort(),
      snapshots: (await primary.clients.cinder.listSnapshots()).length,
      backups: (await primary.clients.cinder.listBackups()).length,
    };

    const protect = await call('POST', `/v1/policies/${policyId}/protect`);
    expect(protect.status).toBe(202);
    checkpointId = protect.body.checkpoint.id;
    const again = await call('POST', `/v1/policies/${policyId}/protect`);
    expect(again.status).toBe(409);
    const execution = await waitExecution(protect.body.execution_id);
    expect(execution.error).toBeNull();
    expect(execution.status).toBe('succeeded');

    const { body } = await call('GET', `/v1/checkpoints/${checkpointId}`);
    expect(body.checkpoint).toMatchObject({
      status: 'available',
      site: 'RegionTwo',
      policy_name: 'web-shop',
    });
    expect(body.checkpoint.container).toMatch(/^web-shop_\d{8}T\d{6}Z$/);

    // The bank, read with the tenant's own credentials at the backup site.
    const bank = await openCheckpoint({ swift: backup.clients.swift, container: body.checkpoint.container });
    const names = bank.list().map((o) => o.name);
    expect(names).toContain('template.yaml');
    expect(names).toContain('execution-log.json');
    expect(names.some((n) => n.startsWith('images/'))).toBe(true);
    expect(names.some((n) => n.startsWith('volumes/'))).toBe(true);
    for (const object of bank.list()) {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of (await backup.clients.swift.getObject(body.checkpoint.container, object.name))
        .stream) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      expect({ name: object.name, size, sha256: hash.digest('hex') }).toEqual(object);
    }
    expect(bank.manifest.policy.resources).toHaveLength(5);
    expect(Object.keys(bank.manifest.steps)).toHaveLength(5);

    // The template is usable where recovery will use it.
    let templateText = '';
    for await (const chunk of await bank.get('template.yaml')) templateText += chunk;
    const parameters = (bank.manifest.template?.parameters ?? {}) as Record<
      string,
      { primary_value: unknown }
    >;
    await validateWorkloadTemplate(
      { template: templateText, parameters } as never,
      backup.clients,
      Object.fromEntries(Object.entries(parameters).map(([k, p]) => [k, p.primary_value])),
    );

    // Nothing temporary left at the primary.
    expect((await primary.clients.glance.listImages({})).map((i) => i.id).sort()).toEqual(before.images);
    expect((await primary.clients.cinder.listSnapshots()).length).toBe(before.snapshots);
    expect((await primary.clients.cinder.listBackups()).length).toBe(before.backups);
  });

  it('verifies the checkpoint, and deletes it with its container', async () => {
    const v = await call('POST', `/v1/checkpoints/${checkpointId}/verify`);
    expect(v.status).toBe(202);
    expect((await waitExecution(v.body.execution_id)).status).toBe('succeeded');
    const { body } = await call('GET', `/v1/checkpoints/${checkpointId}`);
    const container = body.checkpoint.container;
    const d = await call('DELETE', `/v1/checkpoints/${checkpointId}`);
    expect(d.status).toBe(202);
    expect((await waitExecution(d.body.execution_id)).status).toBe('succeeded');
    expect((await call('GET', `/v1/checkpoints/${checkpointId}`)).status).toBe(404);
    expect(await backup.clients.swift.containerInfo(container)).toBeUndefined();
  });
});

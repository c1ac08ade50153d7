/** Rows other services write (engines, executions), inserted directly for API tests. */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../services/common/db/connection.js';

export const serverSnapshot = {
  name: 'server-snapshot',
  resource_type: 'OS::Nova::Server',
  version: '1.0.0',
  description: 'Snapshot the server into an image copied to the bank.',
  options_schema: {
    type: 'object',
    additionalProperties: false,
    properties: { quiesce: { type: 'boolean' }, retries: { type: 'integer', minimum: 0 } },
  },
};

export const volumeSnapshot = {
  name: 'volume-snapshot',
  resource_type: 'OS::Cinder::Volume',
  version: '1.0.0',
  description: 'Snapshot the volume and back it up to the bank.',
  options_schema: { type: 'object', properties: { force: { type: 'boolean' } } },
};

export async function insertEngine(
  db: Database,
  values: { host: string; plugins?: unknown[]; heartbeatAgoSeconds?: number; binary?: string },
): Promise<string> {
  const id = randomUUID();
  const beat = new Date(Date.now() - (values.heartbeatAgoSeconds ?? 0) * 1000);
  await db('services').insert({
    id,
    host: values.host,
    binary: values.binary ?? 'dragon-engine',
    version: '0.1.0',
    plugins: JSON.stringify(values.plugins ?? []),
    last_heartbeat_at: beat,
    created_at: new Date(Date.now() - 3600_000),
  });
  return id;
}

export async function insertExecution(
  db: Database,
  values: { projectId: string; policyId?: string; status?: string; kind?: string; createdAt?: Date },
): Promise<string> {
  const id = randomUUID();
  const now = values.createdAt ?? new Date();
  await db('executions').insert({
    id,
    kind: values.kind ?? 'protect',
    status: values.status ?? 'pending',
    policy_id: values.policyId ?? null,
    project_id: values.projectId,
    user_id: 'alice',
    created_at: now,
    updated_at: now,
    started_at: values.status === 'running' ? now : null,
  });
  return id;
}

export async function insertStep(
  db: Database,
  executionId: string,
  values: { name: string; status?: string; dependsOn?: string[] },
): Promise<void> {
  const now = new Date();
  await db('execution_steps').insert({
    id: randomUUID(),
    execution_id: executionId,
    name: values.name,
    resource_id: randomUUID(),
    resource_type: 'OS::Nova::Server',
    action: 'server-snapshot',
    depends_on: JSON.stringify(values.dependsOn ?? []),
    status: values.status ?? 'pending',
    created_at: now,
    updated_at: now,
  });
}

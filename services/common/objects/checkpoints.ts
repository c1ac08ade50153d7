/**
 * Checkpoints as the database knows them (the bank at the backup site is
 * the truth for recovery; these rows index what this Dragon wrote), and the
 * executions that protect, verify and delete them. No HTTP here.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createExecution, type NewStep } from '../../engine/store.js';
import type { RequestContext } from '../context.js';
import { DragonError } from '../errors.js';
import { isUuid, type Page, type PageRequest, paginate } from './pagination.js';
import type { PolicyRow } from './policies.js';

export type CheckpointStatus = 'creating' | 'available' | 'error' | 'deleting' | 'deleted';

export interface CheckpointRow {
  id: string;
  policy_id: string | null;
  policy_name: string;
  project_id: string;
  execution_id: string | null;
  site: string;
  container: string;
  status: CheckpointStatus;
  size_bytes: number;
  object_count: number;
  summary: Record<string, unknown>;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export const CHECKPOINT_SORT_KEYS = ['created_at', 'updated_at', 'status', 'id'] as const;

/** Built-in steps every protect ends with (engine/protect registers them). */
export const TEMPLATE_STEP = 'zz-template';
export const MANIFEST_STEP = 'zz-manifest';
export const TEMPLATE_ACTION = 'dragon-template';
export const MANIFEST_ACTION = 'dragon-manifest';
/** With `consistency: paused`, the first step: pauses the policy's servers (the engine unpauses them). */
export const PAUSE_STEP = 'zz-pause';
export const PAUSE_ACTION = 'dragon-pause';
export const VERIFY_ACTION = 'dragon-verify';
export const REMOVE_CONTAINER_ACTION = 'dragon-remove-container';
const ACTIVE = ['pending', 'running', 'cancelling'];

export async function listCheckpoints(
  db: Knex,
  scope: string | null,
  filters: { policy_id?: string; status?: string; project_id?: string },
  page: PageRequest,
): Promise<Page<CheckpointRow>> {
  return paginate<CheckpointRow>(
    () => {
      const q = db('checkpoints').select('checkpoints.*').whereNot('checkpoints.status', 'deleted');
      if (scope !== null) q.where('checkpoints.project_id', scope);
      for (const [key, value] of Object.entries(filters)) {
        if (value === undefined) continue;
        if (key === 'policy_id' && !isUuid(value)) q.whereRaw('false');
        else q.where(`checkpoints.${key}`, value);
      }
      return q;
    },
    'checkpoints',
    page,
  );
}

export async function getCheckpoint(db: Knex, id: string, scope: string | null): Promise<CheckpointRow> {
  const q = db('checkpoints').where('id', id).whereNot('status', 'deleted');
  if (scope !== null) q.where('project_id', scope);
  const row = isUuid(id) ? await q.first() : undefined;
  if (!row) throw new DragonError(404, `Checkpoint ${id} could not be found.`);
  return row as CheckpointRow;
}

/** Step name of a policy resource: stable and unique within the execution. */
export function stepNameFor(resourceType: string, resourceId: string): string {
  const kind = resourceType.split('::').at(-1)?.toLowerCase() ?? 'resource';
  return `${kind}-${resourceId}`;
}

/**
 * The protect graph: volume steps first (in parallel), then the server
 * steps, which depend on every volume step of the policy — coarser than
 * "the volumes this server uses" but always correct without asking the
 * cloud inside the request; the template beside them; the manifest last.
 * With `consistency: 'paused'` a pause step comes first and every resource
 * step depends on it (the engine unpauses once every resource step is past
 * its point-in-time capture).
 */
export function protectSteps(
  resources: Array<{
    resource_id: string;
    resource_type: string;
    action: string;
    options: unknown;
    resource_name: string | null;
  }>,
  consistency: 'none' | 'paused' = 'none',
): NewStep[] {
  const paused = consistency === 'paused';
  const volumeSteps = resources
    .filter((r) => r.resource_type === 'OS::Cinder::Volume')
    .map((r) => stepNameFor(r.resource_type, r.resource_id));
  const steps: NewStep[] = resources.map((r) => ({
    name: stepNameFor(r.resource_type, r.resource_id),
    action: r.action,
    resource_id: r.resource_id,
    resource_type: r.resource_type,
    depends_on: [
      ...(paused ? [PAUSE_STEP] : []),
      ...(r.resource_type === 'OS::Cinder::Volume' ? [] : volumeSteps),
    ],
    params: { options: r.options ?? {}, resource_name: r.resource_name },
  }));
  if (paused) steps.unshift({ name: PAUSE_STEP, action: PAUSE_ACTION, depends_on: [] });
  // The template reads the workload at the primary while the resource steps run: it needs none of
  // their results, and running it alongside them keeps it off the critical path.
  // It is also the longest of them: started first, not after every resource step found a slot.
  steps.push({ name: TEMPLATE_STEP, action: TEMPLATE_ACTION, depends_on: [], params: { priority: 1 } });
  steps.push({ name: MANIFEST_STEP, action: MANIFEST_ACTION, depends_on: steps.map((s) => s.name) });
  return steps;
}

export interface ProtectRequest {
  policy: PolicyRow;
  ctx: RequestContext;
  consistency?: 'none' | 'paused';
  /** 'api' or 'schedule'. */
  trigger?: string;
}

/**
 * Writes a `creating` checkpoint and a pending protect execution in one
 * transaction. 409 while another protect of the policy is active. The caller
 * announces the execution afterwards (the sweep covers a lost announcement).
 */
export async function startProtect(
  db: Knex,
  req: ProtectRequest,
): Promise<{ checkpoint: CheckpointRow; executionId: string }> {
  const { policy } = req;
  if (!policy.backup_site)
    throw new DragonError(400, `Policy ${policy.name} has no backup_site: set one before protecting it.`);
  const resources = await db('policy_resources').where({ policy_id: policy.id }).orderBy('resource_id');
  if (resources.length === 0)
    throw new DragonError(400, `Policy ${policy.name} has no resources to protect.`);
  return db.transaction(async (trx) => {
    // The policy row lock serialises concurrent protect requests for one policy.
    await trx('policies').where({ id: policy.id }).forUpdate().first();
    const running = await trx('executions')
      .where({ policy_id: policy.id, kind: 'protect' })
      .whereIn('status', ACTIVE)
      .first();
    if (running)
      throw new DragonError(
        409,
        `Policy ${policy.name} is already being protected by execution ${running.id}.`,
      );
    const checkpointId = randomUUID();
    const execution = await createExecution(trx, {
      kind: 'protect',
      project_id: policy.project_id,
      user_id: req.ctx.userId,
      policy_id: policy.id,
      request_id: req.ctx.requestId,
      params: {
        checkpoint_id: checkpointId,
        consistency: req.consistency ?? 'none',
        trigger: req.trigger ?? 'api',
      },
      steps: protectSteps(resources, req.consistency ?? 'none'),
    });
    const now = new Date();
    const [checkpoint] = await trx('checkpoints')
      .insert({
        id: checkpointId,
        policy_id: policy.id,
        policy_name: policy.name,
        project_id: policy.project_id,
        execution_id: execution.id,
        site: policy.backup_site,
        container: '',
        status: 'creating',
        created_at: now,
        updated_at: now,
      })
      .returning('*');
    return { checkpoint: checkpoint as CheckpointRow, executionId: execution.id };
  });
}

async function checkpointExecution(
  db: Knex,
  checkpoint: CheckpointRow,
  ctx: RequestContext,
  kind: 'verify' | 'delete_checkpoint',
  steps: NewStep[],
): Promise<string> {
  return db.transaction(async (trx) => {
    const row = (await trx('checkpoints').where({ id: checkpoint.id }).forUpdate().first()) as CheckpointRow;
    if (kind === 'verify' && row.status !== 'available') {
      throw new DragonError(
        409,
        `Checkpoint ${row.id} is ${row.status}; only an available checkpoint can be verified.`,
      );
    }
    if (kind === 'delete_checkpoint' && (row.status === 'creating' || row.status === 'deleting')) {
      throw new DragonError(409, `Checkpoint ${row.id} is ${row.status}.`);
    }
    const execution = await createExecution(trx, {
      kind,
      project_id: row.project_id,
      user_id: ctx.userId,
      policy_id: row.policy_id,
      request_id: ctx.requestId,
      params: { checkpoint_id: row.id },
      steps,
    });
    if (kind === 'delete_checkpoint') {
      await trx('checkpoints').where({ id: row.id }).update({ status: 'deleting', updated_at: new Date() });
    }
    return execution.id;
  });
}

/** Re-reads every object of the checkpoint and compares sizes and SHA-256. */
export function startVerify(db: Knex, checkpoint: CheckpointRow, ctx: RequestContext): Promise<string> {
  return checkpointExecution(db, checkpoint, ctx, 'verify', [{ name: 'verify', action: VERIFY_ACTION }]);
}

/**
 * Deletes what the checkpoint's plugins created outside the bank (their
 * `delete` hooks, one step per protected resource), then the container.
 */
export async function startDelete(db: Knex, checkpoint: CheckpointRow, ctx: RequestContext): Promise<string> {
  const protectSteps = checkpoint.execution_id
    ? await db('execution_steps')
        .where({ execution_id: checkpoint.execution_id, status: 'succeeded' })
        .whereNotIn('action', [TEMPLATE_ACTION, MANIFEST_ACTION, PAUSE_ACTION])
    : [];
  const steps: NewStep[] = protectSteps.map(
    (s: { name: string; action: string; resource_id: string; resource_type: string }) => ({
      name: s.name,
      action: s.action,
      resource_id: s.resource_id,
      resource_type: s.resource_type,
    }),
  );
  steps.push({ name: 'zz-container', action: REMOVE_CONTAINER_ACTION, depends_on: steps.map((s) => s.name) });
  return checkpointExecution(db, checkpoint, ctx, 'delete_checkpoint', steps);
}

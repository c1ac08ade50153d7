/**
 * Recoveries as the database knows them, and the executions that run and
 * tear them down. A recovery names its checkpoint as the bank does
 * (checkpoint id + container), never a row of the checkpoints table: the
 * Dragon recovering is usually not the one that protected. No HTTP here.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createExecution, type NewStep } from '../../engine/store.js';
import type { RequestContext } from '../context.js';
import { DragonError } from '../errors.js';
import { isUuid, type Page, type PageRequest, paginate } from './pagination.js';

export type RecoveryStatus =
  | 'planning'
  | 'planned'
  | 'recovering'
  | 'available'
  | 'error'
  | 'cancelled'
  | 'deleting'
  | 'deleted';

export interface RecoveryRow {
  id: string;
  project_id: string;
  user_id: string | null;
  checkpoint_id: string;
  container: string;
  bank_account: string | null;
  bank_site: string;
  site: string;
  policy_name: string | null;
  stack_name: string;
  stack_id: string | null;
  status: RecoveryStatus;
  dry_run: boolean;
  drill: boolean;
  on_failure: 'rollback' | 'keep';
  mapping: Record<string, unknown>;
  trust_id: string | null;
  execution_id: string | null;
  plan: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export const RECOVERY_SORT_KEYS = ['created_at', 'updated_at', 'status', 'id'] as const;

/** Built-in steps of a recovery (engine/recover registers their actions). */
export const RECOVER_VERIFY_STEP = 'aa-verify';
export const RECOVER_VERIFY_ACTION = 'dragon-recover-verify';
export const RECOVER_PLAN_STEP = 'aa-plan';
export const RECOVER_PLAN_ACTION = 'dragon-recover-plan';
export const STACK_STEP = 'zz-stack';
export const STACK_ACTION = 'dragon-stack';
export const CHECKS_STEP = 'zz-checks';
export const CHECKS_ACTION = 'dragon-drill-checks';
export const TEARDOWN_STEP = 'teardown';
export const TEARDOWN_ACTION = 'dragon-teardown';

const ACTIVE_EXECUTION = ['pending', 'running', 'cancelling'];

/** A protected resource as the manifest lists it: what recovery runs `recover` on. */
export interface RecoverableResource {
  step: string;
  resource_id: string;
  resource_type: string;
  action: string;
  options?: Record<string, unknown>;
  resource_name?: string | null;
}

/**
 * The recovery graph. Verify (every object's SHA-256) and plan (the mapping
 * checked against the target) come first and side by side: nothing is
 * created before both pass. The resources' recover steps then run in
 * parallel (images and volumes do not depend on each other), the stack
 * waits for all of them, and a drill's checks come last. A dry run is the
 * plan alone.
 */
export function recoverySteps(
  resources: RecoverableResource[],
  opts: { dryRun: boolean; drill: boolean },
): NewStep[] {
  const plan: NewStep = { name: RECOVER_PLAN_STEP, action: RECOVER_PLAN_ACTION, depends_on: [] };
  if (opts.dryRun) return [plan];
  const steps: NewStep[] = [
    { name: RECOVER_VERIFY_STEP, action: RECOVER_VERIFY_ACTION, depends_on: [] },
    plan,
  ];
  for (const r of resources)
    steps.push({
      name: r.step,
      action: r.action,
      resource_id: r.resource_id,
      resource_type: r.resource_type,
      depends_on: [RECOVER_VERIFY_STEP, RECOVER_PLAN_STEP],
      params: { options: r.options ?? {}, resource_name: r.resource_name ?? null },
    });
  steps.push({
    name: STACK_STEP,
    action: STACK_ACTION,
    depends_on: [RECOVER_VERIFY_STEP, RECOVER_PLAN_STEP, ...resources.map((r) => r.step)],
  });
  // Every recovery checks its servers came up; a drill also hashes the restored volumes.
  steps.push({ name: CHECKS_STEP, action: CHECKS_ACTION, depends_on: [STACK_STEP] });
  return steps;
}

export interface NewRecovery {
  ctx: RequestContext;
  projectId: string;
  checkpointId: string;
  container: string;
  bankAccount: string | null;
  bankSite: string;
  site: string;
  policyName: string | null;
  stackName: string;
  dryRun: boolean;
  drill: boolean;
  onFailure: 'rollback' | 'keep';
  mapping: Record<string, unknown>;
  trustId: string | null;
  resources: RecoverableResource[];
}

/** Writes the recovery and its pending execution in one transaction. */
export async function startRecovery(
  db: Knex,
  input: NewRecovery,
): Promise<{ recovery: RecoveryRow; executionId: string }> {
  return db.transaction(async (trx) => {
    const id = randomUUID();
    const execution = await createExecution(trx, {
      kind: 'recover',
      project_id: input.projectId,
      user_id: input.ctx.userId,
      request_id: input.ctx.requestId,
      params: { recovery_id: id, dry_run: input.dryRun, drill: input.drill },
      steps: recoverySteps(input.resources, { dryRun: input.dryRun, drill: input.drill }),
    });
    const now = new Date();
    const [row] = await trx('recoveries')
      .insert({
        id,
        project_id: input.projectId,
        user_id: input.ctx.userId,
        checkpoint_id: input.checkpointId,
        container: input.container,
        bank_account: input.bankAccount,
        bank_site: input.bankSite,
        site: input.site,
        policy_name: input.policyName,
        stack_name: input.stackName,
        status: input.dryRun ? 'planning' : 'recovering',
        dry_run: input.dryRun,
        drill: input.drill,
        on_failure: input.onFailure,
        mapping: JSON.stringify(input.mapping),
        trust_id: input.trustId,
        execution_id: execution.id,
        created_at: now,
        updated_at: now,
      })
      .returning('*');
    return { recovery: row as RecoveryRow, executionId: execution.id };
  });
}

export async function listRecoveries(
  db: Knex,
  scope: string | null,
  filters: { status?: string; project_id?: string; site?: string },
  page: PageRequest,
): Promise<Page<RecoveryRow>> {
  return paginate<RecoveryRow>(
    () => {
      const q = db('recoveries').select('recoveries.*').whereNot('recoveries.status', 'deleted');
      if (scope !== null) q.where('recoveries.project_id', scope);
      for (const [key, value] of Object.entries(filters))
        if (value !== undefined) q.where(`recoveries.${key}`, value);
      return q;
    },
    'recoveries',
    page,
  );
}

export async function getRecovery(db: Knex, id: string, scope: string | null): Promise<RecoveryRow> {
  const q = db('recoveries').where('id', id).whereNot('status', 'deleted');
  if (scope !== null) q.where('project_id', scope);
  const row = isUuid(id) ? await q.first() : undefined;
  if (!row) throw new DragonError(404, `Recovery ${id} could not be found.`);
  return row as RecoveryRow;
}

/**
 * Tears down what the recovery created (the stack, restored volumes,
 * imported images, key pairs it made). 409 while the recovery still runs:
 * cancel it first (a cancelled recovery rolls itself back).
 */
export async function startRecoveryDelete(
  db: Knex,
  recovery: RecoveryRow,
  ctx: RequestContext,
): Promise<string> {
  return db.transaction(async (trx) => {
    const row = (await trx('recoveries').where({ id: recovery.id }).forUpdate().first()) as RecoveryRow;
    const running = row.execution_id
      ? await trx('executions').where({ id: row.execution_id }).whereIn('status', ACTIVE_EXECUTION).first()
      : undefined;
    if (running || row.status === 'deleting')
      throw new DragonError(
        409,
        `Recovery ${row.id} is ${row.status === 'deleting' ? 'being deleted' : 'still running'}; ${row.status === 'deleting' ? 'wait for it' : 'cancel it first'}.`,
      );
    const execution = await createExecution(trx, {
      kind: 'recovery_delete',
      project_id: row.project_id,
      user_id: ctx.userId,
      request_id: ctx.requestId,
      params: { recovery_id: row.id },
      steps: [{ name: TEARDOWN_STEP, action: TEARDOWN_ACTION }],
    });
    await trx('recoveries').where({ id: row.id }).update({ status: 'deleting', updated_at: new Date() });
    return execution.id;
  });
}

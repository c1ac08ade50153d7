/**
 * Workload policies: a project's named group of resources to protect.
 * `scope` is the project the caller may see, or null when it may see all.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { DragonError } from '../errors.js';
import { nextRun, type Retention, type Schedule, validateSchedule } from '../schedule.js';
import { isUniqueViolation, isUuid, type Page, type PageRequest, paginate } from './pagination.js';

export interface PolicyRow {
  id: string;
  project_id: string;
  user_id: string | null;
  name: string;
  description: string;
  backup_site: string | null;
  /** Where the resources run; null means `[sites] default_primary_site`. */
  primary_site: string | null;
  /** Keystone trust the engine acts through (null without Keystone). */
  trust_id?: string | null;
  schedule: Schedule | null;
  retention: Retention | null;
  /** Projects (Keystone ids, or `AUTH_<project>` accounts) given read access to new checkpoint containers. */
  bank_readers: string[];
  next_run_at: Date | null;
  last_run_at: Date | null;
  status: string;
  resource_count: number;
  created_at: Date;
  updated_at: Date;
}

export const POLICY_SORT_KEYS = ['name', 'status', 'created_at', 'updated_at', 'id'] as const;

/** Executions in these states still use the policy, so it cannot be deleted under them. */
export const ACTIVE_EXECUTION_STATUSES = ['pending', 'running', 'cancelling'] as const;

export interface PolicyFilters {
  name?: string;
  status?: string;
  backup_site?: string;
  project_id?: string;
}

function selectPolicies(db: Knex, scope: string | null): Knex.QueryBuilder {
  const q = db('policies').select(
    'policies.*',
    db.raw(
      '(select count(*) from policy_resources r where r.policy_id = policies.id)::int as resource_count',
    ),
  );
  if (scope !== null) q.where('policies.project_id', scope);
  return q;
}

export async function listPolicies(
  db: Knex,
  scope: string | null,
  filters: PolicyFilters,
  page: PageRequest,
): Promise<Page<PolicyRow>> {
  return paginate<PolicyRow>(
    () => {
      const q = selectPolicies(db, scope);
      for (const [key, value] of Object.entries(filters)) {
        if (value !== undefined) q.where(`policies.${key}`, value);
      }
      return q;
    },
    'policies',
    page,
  );
}

/**
 * The change counter of a project's policies and their resources, bumped by
 * database triggers in the same transaction as every change (migration
 * 20261126000004); 0 before the first change.
 */
export async function policyListVersion(db: Knex, projectId: string): Promise<number> {
  // Asked before every cached list page: a named statement, which PostgreSQL parses and plans
  // once per connection (the SQL never changes), halves its cost on the database side.
  const row = await db('policy_list_versions')
    .where({ project_id: projectId })
    .first('version')
    .options({ name: 'dragon_policy_list_version' });
  return row ? Number(row.version) : 0;
}

export async function getPolicy(db: Knex, id: string, scope: string | null): Promise<PolicyRow> {
  const row = isUuid(id) ? await selectPolicies(db, scope).where('policies.id', id).first() : undefined;
  if (!row) throw new DragonError(404, `Policy ${id} could not be found.`);
  return row as PolicyRow;
}

export interface PolicyCreate {
  projectId: string;
  userId: string;
  name: string;
  description?: string;
  backup_site?: string | null;
  primary_site?: string | null;
  schedule?: Schedule | null;
  retention?: Retention | null;
  bank_readers?: string[];
}

/** Columns a schedule change sets: the schedule (JSON) and when it next fires. */
function scheduleColumns(schedule: Schedule | null | undefined, now: Date): Record<string, unknown> {
  if (schedule === undefined) return {};
  if (schedule === null) return { schedule: null, next_run_at: null };
  validateSchedule(schedule);
  return { schedule: JSON.stringify(schedule), next_run_at: nextRun(schedule, now) };
}

function retentionColumns(retention: Retention | null | undefined): Record<string, unknown> {
  if (retention === undefined) return {};
  return { retention: retention === null ? null : JSON.stringify(retention) };
}

function bankReaderColumns(readers: string[] | null | undefined): Record<string, unknown> {
  if (readers === undefined) return {};
  // Unique, in the order given; null clears.
  return { bank_readers: JSON.stringify([...new Set(readers ?? [])]) };
}

function duplicateName(name: string): DragonError {
  return new DragonError(409, `A policy named "${name}" already exists in this project.`);
}

/**
 * Delegation around a policy's life (Heat's deferred auth): the API passes functions that create the
 * trust from the caller and delete it again, so this module stays free of HTTP and Keystone.
 */
export interface PolicyTrustHooks {
  /** Creates the trust; its id is stored on the policy. Undefined: no trust (e.g. noauth). */
  createTrust?: () => Promise<string | undefined>;
  /** Deletes a trust (made by `trustorUserId` when known); must not throw for one already gone. */
  deleteTrust?: (trustId: string, trustorUserId?: string) => Promise<void>;
}

export async function createPolicy(
  db: Knex,
  values: PolicyCreate,
  hooks: PolicyTrustHooks = {},
): Promise<PolicyRow> {
  const now = new Date();
  const id = randomUUID();
  // A clear 409 before a trust is made for nothing; the unique index still decides under a race.
  const taken = await db('policies').where({ project_id: values.projectId, name: values.name }).first('id');
  if (taken) throw duplicateName(values.name);
  const trustId = hooks.createTrust ? await hooks.createTrust() : undefined;
  try {
    await db('policies').insert({
      id,
      project_id: values.projectId,
      user_id: values.userId,
      name: values.name,
      description: values.description ?? '',
      backup_site: values.backup_site ?? null,
      primary_site: values.primary_site ?? null,
      ...scheduleColumns(values.schedule, now),
      ...retentionColumns(values.retention),
      ...bankReaderColumns(values.bank_readers),
      trust_id: trustId ?? null,
      status: 'available',
      created_at: now,
      updated_at: now,
    });
  } catch (err) {
    // The policy was not stored: its trust must not outlive it.
    if (trustId && hooks.deleteTrust) await hooks.deleteTrust(trustId, values.userId).catch(() => {});
    if (isUniqueViolation(err)) throw duplicateName(values.name);
    throw err;
  }
  return getPolicy(db, id, null);
}

export interface PolicyUpdate {
  name?: string;
  /** null clears it (stored as ''). */
  description?: string | null;
  backup_site?: string | null;
  primary_site?: string | null;
  schedule?: Schedule | null;
  retention?: Retention | null;
  /** null or [] clears. */
  bank_readers?: string[] | null;
}

export async function updatePolicy(db: Knex, policy: PolicyRow, changes: PolicyUpdate): Promise<PolicyRow> {
  if (Object.keys(changes).length > 0) {
    try {
      await db('policies')
        .where({ id: policy.id })
        .update({
          ...changes,
          ...(changes.description === null ? { description: '' } : {}),
          ...scheduleColumns(changes.schedule, new Date()),
          ...retentionColumns(changes.retention),
          ...bankReaderColumns(changes.bank_readers),
          updated_at: new Date(),
        });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicateName(changes.name ?? policy.name);
      throw err;
    }
  }
  return getPolicy(db, policy.id, null);
}

/**
 * Deletes the policy and (by cascade) its resources. The row lock makes a
 * concurrent delete and the active-execution check see one consistent state.
 */
export async function deletePolicy(db: Knex, policy: PolicyRow, hooks: PolicyTrustHooks = {}): Promise<void> {
  await db.transaction(async (trx) => {
    const locked = await trx('policies').where({ id: policy.id }).forUpdate().first();
    if (!locked) throw new DragonError(404, `Policy ${policy.id} could not be found.`);
    const active = await trx('executions')
      .where({ policy_id: policy.id })
      .whereIn('status', [...ACTIVE_EXECUTION_STATUSES])
      .first('id', 'status');
    if (active) {
      throw new DragonError(
        409,
        `Policy ${policy.id} cannot be deleted while execution ${active.id} is ${active.status}.`,
      );
    }
    await trx('policies').where({ id: policy.id }).delete();
  });
  // After the commit: a policy whose delete rolled back keeps a working trust.
  if (policy.trust_id && hooks.deleteTrust)
    await hooks.deleteTrust(policy.trust_id, policy.user_id ?? undefined);
}

/**
 * The resources of a workload policy: which cloud resource, and which action
 * protects it with which options. Rows carry the policy's project_id so that
 * scoping never needs a join.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { DragonError } from '../errors.js';
import { type ActionInfo, checkActionFor } from './actions.js';
import { isUniqueViolation, type Page, type PageRequest, paginate } from './pagination.js';
import type { PolicyRow } from './policies.js';

export interface ResourceRow {
  id: string;
  policy_id: string;
  project_id: string;
  resource_id: string;
  resource_type: string;
  resource_name: string | null;
  action: string;
  options: Record<string, unknown>;
  required: boolean;
  created_at: Date;
  updated_at: Date;
}

export const RESOURCE_SORT_KEYS = [
  'resource_id',
  'resource_type',
  'action',
  'created_at',
  'updated_at',
  'id',
] as const;

export interface ResourceFilters {
  resource_type?: string;
  action?: string;
  resource_name?: string;
}

export async function listResources(
  db: Knex,
  policy: PolicyRow,
  filters: ResourceFilters,
  page: PageRequest,
): Promise<Page<ResourceRow>> {
  return paginate<ResourceRow>(
    () => {
      const q = db('policy_resources')
        .select('policy_resources.*')
        .where('policy_resources.policy_id', policy.id);
      for (const [key, value] of Object.entries(filters)) {
        if (value !== undefined) q.where(`policy_resources.${key}`, value);
      }
      return q;
    },
    'policy_resources',
    page,
  );
}

/** By cloud resource id, which is what the REST path names. */
export async function getResource(db: Knex, policy: PolicyRow, resourceId: string): Promise<ResourceRow> {
  const row = await db('policy_resources').where({ policy_id: policy.id, resource_id: resourceId }).first();
  if (!row) throw new DragonError(404, `Resource ${resourceId} is not part of policy ${policy.id}.`);
  return row as ResourceRow;
}

export interface ResourceAdd {
  resource_id: string;
  resource_type: string;
  action: string;
  resource_name?: string | null;
  options?: Record<string, unknown>;
  required?: boolean;
}

/**
 * Checks the resource against its action, beyond the options: the API reads the cloud there
 * (an action's `requires`); throws to refuse.
 */
export type ResourceCheck = (action: ActionInfo) => Promise<void>;

/** `heartbeatIntervalSeconds` decides which engines count as running when the action is checked. */
export async function addResource(
  db: Knex,
  policy: PolicyRow,
  values: ResourceAdd,
  heartbeatIntervalSeconds: number,
  check?: ResourceCheck,
): Promise<ResourceRow> {
  const options = values.options ?? {};
  const action = await checkActionFor(
    db,
    heartbeatIntervalSeconds,
    values.resource_type,
    values.action,
    options,
  );
  await check?.(action);
  const now = new Date();
  try {
    await db('policy_resources').insert({
      id: randomUUID(),
      policy_id: policy.id,
      project_id: policy.project_id,
      resource_id: values.resource_id,
      resource_type: values.resource_type,
      resource_name: values.resource_name ?? null,
      action: values.action,
      options: JSON.stringify(options),
      required: values.required ?? true,
      created_at: now,
      updated_at: now,
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new DragonError(409, `Resource ${values.resource_id} is already part of policy ${policy.id}.`);
    }
    throw err;
  }
  return getResource(db, policy, values.resource_id);
}

export interface ResourceUpdate {
  resource_name?: string | null;
  action?: string;
  options?: Record<string, unknown>;
  required?: boolean;
}

/** A new action or new options are checked together: options belong to an action. */
export async function updateResource(
  db: Knex,
  policy: PolicyRow,
  resource: ResourceRow,
  changes: ResourceUpdate,
  heartbeatIntervalSeconds: number,
  check?: ResourceCheck,
): Promise<ResourceRow> {
  if (changes.action !== undefined || changes.options !== undefined) {
    const action = await checkActionFor(
      db,
      heartbeatIntervalSeconds,
      resource.resource_type,
      changes.action ?? resource.action,
      changes.options ?? resource.options ?? {},
    );
    // Only a new action can stop fitting the resource; new options alone cannot.
    if (changes.action !== undefined && changes.action !== resource.action) await check?.(action);
  }
  if (Object.keys(changes).length > 0) {
    const row: Record<string, unknown> = { ...changes, updated_at: new Date() };
    if (changes.options !== undefined) row.options = JSON.stringify(changes.options);
    await db('policy_resources').where({ id: resource.id }).update(row);
  }
  return getResource(db, policy, resource.resource_id);
}

export async function removeResource(db: Knex, resource: ResourceRow): Promise<void> {
  await db('policy_resources').where({ id: resource.id }).delete();
}

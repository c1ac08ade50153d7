/**
 * View builders: database rows to the REST representation of api-v1.md.
 * Only documented fields leave the API (no claim tokens, no request ids).
 */

import type { ActionInfo } from '../common/objects/actions.js';
import type { CheckpointRow } from '../common/objects/checkpoints.js';
import type { ExecutionRow, StepRow } from '../common/objects/executions.js';
import type { PolicyRow } from '../common/objects/policies.js';
import type { RecoveryRow } from '../common/objects/recoveries.js';
import type { ResourceRow } from '../common/objects/resources.js';
import { type ServiceRow, serviceState } from '../common/objects/services.js';
import type { BankCheckpointSummary } from '../engine/bank/index.js';

/** ISO 8601 UTC to the second (`2026-11-26T10:15:00Z`), as OpenStack APIs print times. */
export function isoTime(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  const year = d.getUTCFullYear();
  // Built from the fields: a page of 100 policies formats 200 or more times, and this is
  // several times cheaper than toISOString. Years outside 1000–9999 take toISOString's form.
  if (year < 1000 || year > 9999) return `${d.toISOString().slice(0, -5)}Z`;
  return `${year}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}Z`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

export function policyView(p: PolicyRow) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    backup_site: p.backup_site,
    primary_site: p.primary_site ?? null,
    schedule: p.schedule ?? null,
    retention: p.retention ?? null,
    bank_readers: p.bank_readers ?? [],
    next_run_at: isoTime(p.next_run_at),
    last_run_at: isoTime(p.last_run_at),
    status: p.status,
    project_id: p.project_id,
    user_id: p.user_id,
    resource_count: Number(p.resource_count ?? 0),
    created_at: isoTime(p.created_at),
    updated_at: isoTime(p.updated_at),
  };
}

export function resourceView(r: ResourceRow) {
  return {
    id: r.id,
    policy_id: r.policy_id,
    resource_id: r.resource_id,
    resource_type: r.resource_type,
    resource_name: r.resource_name,
    action: r.action,
    options: r.options ?? {},
    required: r.required,
    created_at: isoTime(r.created_at),
    updated_at: isoTime(r.updated_at),
  };
}

export function executionView(e: ExecutionRow) {
  return {
    id: e.id,
    kind: e.kind,
    status: e.status,
    progress: Number(e.progress),
    progress_detail: e.progress_detail ?? {},
    error: e.error,
    policy_id: e.policy_id,
    project_id: e.project_id,
    user_id: e.user_id,
    params: e.params ?? {},
    result: e.result ?? null,
    claimed_by: e.claimed_by,
    created_at: isoTime(e.created_at),
    updated_at: isoTime(e.updated_at),
    started_at: isoTime(e.started_at),
    finished_at: isoTime(e.finished_at),
  };
}

export function stepView(s: StepRow) {
  return {
    id: s.id,
    name: s.name,
    resource_id: s.resource_id,
    resource_type: s.resource_type,
    action: s.action,
    depends_on: s.depends_on ?? [],
    status: s.status,
    progress: Number(s.progress),
    error: s.error,
    result: s.result ?? null,
    attempts: s.attempts,
    started_at: isoTime(s.started_at),
    finished_at: isoTime(s.finished_at),
  };
}

export function actionView(a: ActionInfo) {
  return {
    name: a.name,
    resource_type: a.resource_type,
    description: a.description ?? '',
    version: a.version,
    options_schema: a.options_schema ?? {},
  };
}

export function serviceView(s: ServiceRow, heartbeatIntervalSeconds: number, now = new Date()) {
  return {
    id: s.id,
    host: s.host,
    binary: s.binary,
    version: s.version,
    state: serviceState(s, heartbeatIntervalSeconds, now),
    plugins: Array.isArray(s.plugins)
      ? s.plugins.map((p) => ({ name: p.name, resource_type: p.resource_type, version: p.version }))
      : [],
    last_heartbeat_at: isoTime(s.last_heartbeat_at),
    created_at: isoTime(s.created_at),
  };
}

export function checkpointView(c: CheckpointRow) {
  return {
    id: c.id,
    policy_id: c.policy_id,
    policy_name: c.policy_name,
    project_id: c.project_id,
    execution_id: c.execution_id,
    site: c.site,
    container: c.container || null,
    status: c.status,
    size_bytes: Number(c.size_bytes),
    object_count: c.object_count,
    summary: c.summary,
    error: c.error,
    created_at: isoTime(c.created_at),
    updated_at: isoTime(c.updated_at),
    finished_at: isoTime(c.finished_at),
  };
}

export function recoveryView(r: RecoveryRow) {
  return {
    id: r.id,
    project_id: r.project_id,
    checkpoint_id: r.checkpoint_id,
    container: r.container,
    bank_site: r.bank_site,
    bank_account: r.bank_account,
    site: r.site,
    policy_name: r.policy_name,
    stack_name: r.stack_name,
    stack_id: r.stack_id,
    status: r.status,
    dry_run: r.dry_run,
    drill: r.drill,
    on_failure: r.on_failure,
    mapping: r.mapping,
    execution_id: r.execution_id,
    plan: r.plan,
    result: r.result,
    error: r.error,
    created_at: isoTime(r.created_at),
    updated_at: isoTime(r.updated_at),
    finished_at: isoTime(r.finished_at),
  };
}

/** A checkpoint as the bank shows it (GET /v1/checkpoints?source=bank): no database row needed. */
export function bankCheckpointView(c: BankCheckpointSummary, site: string) {
  return {
    id: c.checkpointId,
    container: c.container,
    policy_id: c.policy.id || null,
    policy_name: c.policy.name || null,
    project_id: c.projectId,
    site,
    source: 'bank',
    status: c.status,
    usable: c.usable,
    reason: c.reason ?? null,
    resource_count: c.resourceCount ?? null,
    size_bytes: c.totalSize ?? null,
    object_count: c.objectCount ?? null,
    created_at: c.createdAt ?? null,
  };
}

/**
 * The engine's view of the executions tables: atomic claims, fenced writes
 * and heartbeats. Every write made while running carries the claim token, so
 * an engine that lost its claim (it stalled past `takeover_after` and another
 * engine took over) can no longer change the execution or its steps.
 * Times come from the database clock so engines on different hosts agree.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type {
  ExecutionRow as ExecutionRecord,
  ExecutionStatus,
  StepRow as StepRecord,
} from '../common/objects/executions.js';

export type { ExecutionStatus };

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';
export const FINAL_EXECUTION: readonly ExecutionStatus[] = ['succeeded', 'failed', 'cancelled'];

/** The row as the engine sees it: the API's view plus the claim bookkeeping. */
export interface ExecutionRow extends ExecutionRecord {
  request_id: string | null;
  claim_token: string | null;
  claims: number;
  heartbeat_at: Date | null;
}

export interface StepRow extends StepRecord {
  status: StepStatus;
  params: Record<string, unknown>;
  claimed_by: string | null;
}

export interface NewStep {
  name: string;
  action: string;
  resource_id?: string | null;
  resource_type?: string | null;
  depends_on?: string[];
  params?: Record<string, unknown>;
}

export interface NewExecution {
  kind: string;
  project_id: string;
  user_id?: string | null;
  policy_id?: string | null;
  request_id?: string | null;
  params?: Record<string, unknown>;
  steps: NewStep[];
}

/** Checks a step graph: unique names, known dependencies, no cycles. */
export function validateGraph(steps: readonly NewStep[]): void {
  const names = new Set<string>();
  for (const s of steps) {
    if (names.has(s.name)) throw new Error(`duplicate step name ${s.name}`);
    names.add(s.name);
  }
  for (const s of steps) {
    for (const d of s.depends_on ?? [])
      if (!names.has(d)) throw new Error(`step ${s.name} depends on unknown step ${d}`);
  }
  const state = new Map<string, 1 | 2>();
  const byName = new Map(steps.map((s) => [s.name, s]));
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 2) return;
    if (state.get(name) === 1) throw new Error(`step dependency cycle: ${[...path, name].join(' -> ')}`);
    state.set(name, 1);
    for (const d of byName.get(name)?.depends_on ?? []) visit(d, [...path, name]);
    state.set(name, 2);
  };
  for (const s of steps) visit(s.name, []);
}

/** Writes a pending execution and its steps in one transaction; the caller announces it afterwards. */
export async function createExecution(db: Knex, input: NewExecution): Promise<ExecutionRow> {
  validateGraph(input.steps);
  const id = randomUUID();
  return db.transaction(async (trx) => {
    const [row] = await trx('executions')
      .insert({
        id,
        kind: input.kind,
        status: 'pending',
        project_id: input.project_id,
        user_id: input.user_id ?? null,
        policy_id: input.policy_id ?? null,
        request_id: input.request_id ?? null,
        params: JSON.stringify(input.params ?? {}),
        created_at: trx.fn.now(),
        updated_at: trx.fn.now(),
      })
      .returning('*');
    if (input.steps.length > 0) {
      await trx('execution_steps').insert(
        input.steps.map((s) => ({
          id: randomUUID(),
          execution_id: id,
          name: s.name,
          action: s.action,
          resource_id: s.resource_id ?? null,
          resource_type: s.resource_type ?? null,
          depends_on: JSON.stringify(s.depends_on ?? []),
          params: JSON.stringify(s.params ?? {}),
          status: 'pending',
          created_at: trx.fn.now(),
          updated_at: trx.fn.now(),
        })),
      );
    }
    return row as ExecutionRow;
  });
}

export interface Claim {
  execution: ExecutionRow;
  token: string;
  /** True when this claim took the execution over from another engine. */
  takeover: boolean;
}

/**
 * Claims one execution atomically: a pending one, or a running/cancelling
 * one whose heartbeat is older than `takeoverAfterS`. With `id`, only that
 * execution. `FOR UPDATE SKIP LOCKED` makes two racing engines pick
 * different rows (or one of them none).
 */
export async function claimExecution(
  db: Knex,
  host: string,
  takeoverAfterS: number,
  id?: string,
): Promise<Claim | null> {
  const token = randomUUID();
  const { rows } = await db.raw(
    `UPDATE executions e
        SET status = CASE WHEN e.status = 'pending' THEN 'running' ELSE e.status END,
            claimed_by = ?, claim_token = ?, claims = e.claims + 1,
            heartbeat_at = now(), updated_at = now(), started_at = coalesce(e.started_at, now())
      WHERE e.id = (
        SELECT id FROM executions
         WHERE (status = 'pending'
                OR (status IN ('running', 'cancelling')
                    AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => ?))))
           ${id ? 'AND id = ?' : ''}
         ORDER BY created_at
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
      RETURNING e.*, (e.claims > 1) AS takeover`,
    id ? [host, token, takeoverAfterS, id] : [host, token, takeoverAfterS],
  );
  const row = rows[0];
  if (!row) return null;
  const { takeover, ...execution } = row;
  return { execution: execution as ExecutionRow, token, takeover: Boolean(takeover) && execution.claims > 1 };
}

export class ClaimLostError extends Error {
  override name = 'ClaimLostError';
}

/** Fenced operations on one claimed execution. */
export class ClaimedExecution {
  constructor(
    readonly db: Knex,
    readonly id: string,
    readonly token: string,
  ) {}

  #owned(q: Knex.QueryBuilder): Knex.QueryBuilder {
    return q.whereExists(
      this.db('executions').select(this.db.raw('1')).where({ id: this.id, claim_token: this.token }),
    );
  }

  /** Refreshes the heartbeat; returns whether a cancel was requested. Throws ClaimLostError if another engine owns it now. */
  async heartbeat(
    progress?: number,
    detail?: Record<string, unknown>,
  ): Promise<{ cancelRequested: boolean }> {
    const update: Record<string, unknown> = { heartbeat_at: this.db.fn.now() };
    if (progress !== undefined) update.progress = progress;
    if (detail !== undefined) update.progress_detail = JSON.stringify(detail);
    const rows = await this.db('executions')
      .where({ id: this.id, claim_token: this.token })
      .update(update)
      .returning(['cancel_requested']);
    if (rows.length === 0) throw new ClaimLostError(`execution ${this.id} was taken over by another engine`);
    return { cancelRequested: Boolean(rows[0].cancel_requested) };
  }

  async steps(): Promise<StepRow[]> {
    return this.db('execution_steps').where({ execution_id: this.id }).orderBy('name');
  }

  /** After a takeover, steps left `running` by the dead engine are run again (steps are idempotent or resumable). */
  async resetInterruptedSteps(): Promise<number> {
    return this.#owned(this.db('execution_steps').where({ execution_id: this.id, status: 'running' })).update(
      {
        status: 'pending',
        updated_at: this.db.fn.now(),
      },
    );
  }

  async updateStep(stepId: string, fields: Partial<Omit<StepRow, 'id' | 'execution_id'>>): Promise<void> {
    const data: Record<string, unknown> = { ...fields, updated_at: this.db.fn.now() };
    if ('result' in fields) data.result = JSON.stringify(fields.result ?? null);
    const n = await this.#owned(
      this.db('execution_steps').where({ id: stepId, execution_id: this.id }),
    ).update(data);
    if (n === 0) throw new ClaimLostError(`execution ${this.id} was taken over by another engine`);
  }

  /** Starts a step: status running, attempts + 1, claimed_by this host. Returns the new attempt number. */
  async startStep(stepId: string, host: string): Promise<number> {
    const rows = await this.#owned(this.db('execution_steps').where({ id: stepId, execution_id: this.id }))
      .update({
        status: 'running',
        attempts: this.db.raw('attempts + 1'),
        claimed_by: host,
        started_at: this.db.raw('coalesce(started_at, now())'),
        error: null,
        updated_at: this.db.fn.now(),
      })
      .returning(['attempts']);
    if (rows.length === 0) throw new ClaimLostError(`execution ${this.id} was taken over by another engine`);
    return rows[0].attempts as number;
  }

  async finishSteps(statuses: StepStatus[], to: StepStatus): Promise<void> {
    await this.#owned(
      this.db('execution_steps').where({ execution_id: this.id }).whereIn('status', statuses),
    ).update({
      status: to,
      finished_at: this.db.fn.now(),
      updated_at: this.db.fn.now(),
    });
  }

  async setProgress(progress: number, detail: Record<string, unknown>): Promise<void> {
    await this.db('executions')
      .where({ id: this.id, claim_token: this.token })
      .update({ progress, progress_detail: JSON.stringify(detail), updated_at: this.db.fn.now() });
  }

  async setStatus(status: ExecutionStatus): Promise<void> {
    await this.db('executions')
      .where({ id: this.id, claim_token: this.token })
      .update({ status, updated_at: this.db.fn.now() });
  }

  /** Ends the execution and releases the claim. */
  async finish(
    status: ExecutionStatus,
    fields: { error?: string | null; result?: unknown; progress?: number },
  ): Promise<void> {
    const data: Record<string, unknown> = {
      status,
      error: fields.error ?? null,
      finished_at: this.db.fn.now(),
      updated_at: this.db.fn.now(),
      claim_token: null,
      heartbeat_at: null,
    };
    if (fields.result !== undefined) data.result = JSON.stringify(fields.result);
    if (fields.progress !== undefined) data.progress = fields.progress;
    const n = await this.db('executions').where({ id: this.id, claim_token: this.token }).update(data);
    if (n === 0) throw new ClaimLostError(`execution ${this.id} was taken over by another engine`);
  }

  /** Gives the execution back (engine shutting down): another engine may claim it at once. */
  async release(): Promise<void> {
    await this.#owned(this.db('execution_steps').where({ execution_id: this.id, status: 'running' })).update({
      status: 'pending',
      updated_at: this.db.fn.now(),
    });
    await this.db('executions')
      .where({ id: this.id, claim_token: this.token })
      .update({
        status: this.db.raw(`CASE WHEN status = 'running' THEN 'pending' ELSE status END`),
        claim_token: null,
        claimed_by: null,
        heartbeat_at: null,
        updated_at: this.db.fn.now(),
      });
  }
}

export async function getExecution(db: Knex, id: string): Promise<ExecutionRow | undefined> {
  return db('executions').where({ id }).first();
}

export async function getSteps(db: Knex, executionId: string): Promise<StepRow[]> {
  return db('execution_steps').where({ execution_id: executionId }).orderBy('name');
}

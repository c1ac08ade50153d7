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

/**
 * Gathers the calls made in one turn of the event loop into one database
 * statement: a hundred steps starting (or ending) together cost one round
 * trip, not a hundred. Every caller still waits for its own write to be
 * committed, so nothing that follows a write can overtake it.
 */
export class WriteBatch<T, R> {
  #queue: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  #scheduled = false;

  /** `flush` gets the items in call order and returns one result per item, in the same order. */
  constructor(private readonly flush: (items: T[]) => Promise<R[]>) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => void this.#run());
    });
  }

  async #run(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    try {
      const results = await this.flush(batch.map((b) => b.item));
      batch.forEach((b, i) => {
        b.resolve(results[i] as R);
      });
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}

/** Fenced operations on one claimed execution. */
export class ClaimedExecution {
  readonly #starts: WriteBatch<{ stepId: string; host: string }, number>;
  readonly #successes: WriteBatch<{ stepId: string; result: unknown }, undefined>;

  constructor(
    readonly db: Knex,
    readonly id: string,
    readonly token: string,
  ) {
    this.#starts = new WriteBatch((items) => this.#startSteps(items));
    this.#successes = new WriteBatch((items) => this.#succeedSteps(items));
  }

  #lost(): ClaimLostError {
    return new ClaimLostError(`execution ${this.id} was taken over by another engine`);
  }

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

  /** Replaces the dependencies of some steps (by step id), in one statement. */
  async setDependencies(byStep: ReadonlyMap<string, string[]>): Promise<void> {
    if (byStep.size === 0) return;
    const entries = [...byStep];
    const values = entries.map(() => '(?::uuid, ?::jsonb)').join(', ');
    const { rows } = await this.db.raw(
      `UPDATE execution_steps s
          SET depends_on = v.depends_on, updated_at = now()
         FROM (VALUES ${values}) AS v(id, depends_on)
        WHERE s.id = v.id AND s.execution_id = ?
          AND EXISTS (SELECT 1 FROM executions WHERE id = ? AND claim_token = ?)
        RETURNING s.id`,
      [...entries.flatMap(([id, deps]) => [id, JSON.stringify(deps)]), this.id, this.id, this.token],
    );
    if (rows.length === 0) throw new ClaimLostError(`execution ${this.id} was taken over by another engine`);
  }

  /**
   * Starts a step: status running, attempts + 1, claimed_by this host. Returns the new attempt number.
   * Steps started in the same turn of the event loop are started by one statement.
   */
  startStep(stepId: string, host: string): Promise<number> {
    return this.#starts.add({ stepId, host });
  }

  async #startSteps(items: Array<{ stepId: string; host: string }>): Promise<number[]> {
    const attempts = new Map<string, number>();
    // One statement per host (in practice one: this engine's).
    for (const host of new Set(items.map((i) => i.host))) {
      const ids = [...new Set(items.filter((i) => i.host === host).map((i) => i.stepId))];
      const rows = await this.#owned(
        this.db('execution_steps').where({ execution_id: this.id }).whereIn('id', ids),
      )
        .update({
          status: 'running',
          attempts: this.db.raw('attempts + 1'),
          claimed_by: host,
          started_at: this.db.raw('coalesce(started_at, now())'),
          error: null,
          updated_at: this.db.fn.now(),
        })
        .returning(['id', 'attempts']);
      for (const r of rows as Array<{ id: string; attempts: number }>) attempts.set(r.id, r.attempts);
    }
    return items.map((i) => {
      const n = attempts.get(i.stepId);
      if (n === undefined) throw this.#lost();
      return n;
    });
  }

  /**
   * Records a step's success: status succeeded, progress 100, its result, finished now (database
   * clock). Steps that end in the same turn of the event loop are recorded by one statement.
   */
  succeedStep(stepId: string, result: unknown): Promise<void> {
    return this.#successes.add({ stepId, result });
  }

  async #succeedSteps(items: Array<{ stepId: string; result: unknown }>): Promise<undefined[]> {
    const values = items.map(() => '(?::uuid, ?::jsonb)').join(', ');
    const { rows } = await this.db.raw(
      `UPDATE execution_steps s
          SET status = 'succeeded', progress = 100, result = v.result,
              finished_at = now(), updated_at = now()
         FROM (VALUES ${values}) AS v(id, result)
        WHERE s.id = v.id AND s.execution_id = ?
          AND EXISTS (SELECT 1 FROM executions WHERE id = ? AND claim_token = ?)
        RETURNING s.id`,
      [...items.flatMap((i) => [i.stepId, JSON.stringify(i.result ?? null)]), this.id, this.id, this.token],
    );
    const done = new Set((rows as Array<{ id: string }>).map((r) => r.id));
    if (items.some((i) => !done.has(i.stepId))) throw this.#lost();
    return items.map(() => undefined);
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

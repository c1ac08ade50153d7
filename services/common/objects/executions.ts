/**
 * Executions as the API sees them: read them, and ask for one to stop. The
 * engine owns every other state change.
 */
import type { Knex } from 'knex';
import type { RequestContext } from '../context.js';
import { DragonError } from '../errors.js';
import type { Logger } from '../log.js';
import { ENGINE_TOPIC, type Transport } from '../rpc/types.js';
import { isUuid, type Page, type PageRequest, paginate } from './pagination.js';

export type ExecutionStatus = 'pending' | 'running' | 'cancelling' | 'succeeded' | 'failed' | 'cancelled';

export interface ExecutionRow {
  id: string;
  kind: string;
  status: ExecutionStatus;
  progress: number;
  progress_detail: Record<string, unknown>;
  error: string | null;
  policy_id: string | null;
  project_id: string;
  user_id: string | null;
  params: Record<string, unknown>;
  result: unknown;
  claimed_by: string | null;
  cancel_requested: boolean;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface StepRow {
  id: string;
  execution_id: string;
  name: string;
  resource_id: string | null;
  resource_type: string | null;
  action: string;
  depends_on: string[];
  status: string;
  progress: number;
  error: string | null;
  result: unknown;
  attempts: number;
  started_at: Date | null;
  finished_at: Date | null;
}

export const EXECUTION_SORT_KEYS = ['created_at', 'updated_at', 'status', 'kind', 'id'] as const;

export interface ExecutionFilters {
  status?: string;
  kind?: string;
  policy_id?: string;
  project_id?: string;
}

export async function listExecutions(
  db: Knex,
  scope: string | null,
  filters: ExecutionFilters,
  page: PageRequest,
): Promise<Page<ExecutionRow>> {
  return paginate<ExecutionRow>(
    () => {
      const q = db('executions').select('executions.*');
      if (scope !== null) q.where('executions.project_id', scope);
      for (const [key, value] of Object.entries(filters)) {
        if (value === undefined) continue;
        // policy_id is a uuid column: a malformed filter matches nothing rather than failing the query.
        if (key === 'policy_id' && !isUuid(value)) q.whereRaw('false');
        else q.where(`executions.${key}`, value);
      }
      return q;
    },
    'executions',
    page,
  );
}

export async function getExecution(db: Knex, id: string, scope: string | null): Promise<ExecutionRow> {
  const q = db('executions').where('id', id);
  if (scope !== null) q.where('project_id', scope);
  const row = isUuid(id) ? await q.first() : undefined;
  if (!row) throw new DragonError(404, `Execution ${id} could not be found.`);
  return row as ExecutionRow;
}

export async function getExecutionSteps(db: Knex, execution: ExecutionRow): Promise<StepRow[]> {
  return (await db('execution_steps').where('execution_id', execution.id).orderBy('name')) as StepRow[];
}

/**
 * Records the cancel request, then tells the engines. The database is the
 * truth: an engine that misses the fanout still sees `cancel_requested` on
 * its next poll, so a failed cast is logged and not fatal. A pending
 * execution no engine has claimed yet is cancelled outright (the engine's
 * claim only takes rows still pending).
 */
export async function cancelExecution(
  db: Knex,
  transport: Transport,
  execution: ExecutionRow,
  ctx: RequestContext,
  log: Logger,
): Promise<ExecutionRow> {
  const updated = await db.transaction(async (trx) => {
    const row = (await trx('executions').where({ id: execution.id }).forUpdate().first()) as ExecutionRow;
    if (!row) throw new DragonError(404, `Execution ${execution.id} could not be found.`);
    const now = new Date();
    if (row.status === 'pending') {
      await trx('executions')
        .where({ id: row.id })
        .update({ status: 'cancelled', cancel_requested: true, finished_at: now, updated_at: now });
    } else if (row.status === 'running') {
      await trx('executions')
        .where({ id: row.id })
        .update({ status: 'cancelling', cancel_requested: true, updated_at: now });
    } else if (row.status !== 'cancelling') {
      throw new DragonError(409, `Execution ${row.id} is already ${row.status}.`);
    }
    return (await trx('executions').where({ id: row.id }).first()) as ExecutionRow;
  });
  try {
    await transport.cast(
      { topic: ENGINE_TOPIC, fanout: true },
      'cancel_execution',
      { execution_id: updated.id },
      ctx,
    );
  } catch (err) {
    log.warn(
      { execution_id: updated.id, err: (err as Error).message },
      'cancel cast failed; engines will see cancel_requested on their next poll',
    );
  }
  return updated;
}

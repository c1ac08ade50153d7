/**
 * Fires scheduled protects and applies retention. Exactly one engine leads:
 * the one holding a PostgreSQL advisory lock on a connection of its own (the
 * lock goes with the connection when an engine dies, and another engine
 * takes the lead at its next tick). The embedded database serves one
 * process, which then always leads.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { RequestContext } from '../common/context.js';
import { isEmbedded } from '../common/db/connection.js';
import { DragonError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { type CheckpointRow, startDelete, startProtect } from '../common/objects/checkpoints.js';
import type { PolicyRow } from '../common/objects/policies.js';
import type { Transport } from '../common/rpc/types.js';
import { expiredCheckpoints, nextRun, type Retention, type Schedule } from '../common/schedule.js';
import { announceExecution } from './service.js';

/** The advisory lock key of the scheduler leader ("dragon" in ASCII). */
export const LEADER_LOCK_KEY = 0x647261676f6e;

interface PgConnection {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** Scheduled work acts for the policy's owner; the engine reaches the clouds through the policy's trust. */
function scheduleContext(policy: PolicyRow): RequestContext {
  return {
    requestId: `req-${randomUUID()}`,
    userId: policy.user_id ?? 'dragon',
    projectId: policy.project_id,
    roles: [],
    isAdminProject: false,
  };
}

export class Scheduler {
  #timer?: NodeJS.Timeout;
  #lockConnection?: PgConnection;
  #ticking?: Promise<void>;

  constructor(
    readonly db: Knex,
    readonly transport: Transport,
    readonly log: Logger,
    readonly intervalMs: number,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.intervalMs);
    void this.tick();
  }

  get leading(): boolean {
    return isEmbedded(this.db) || this.#lockConnection !== undefined;
  }

  /** One pass: take (or keep) the lead, fire what is due, apply retention. */
  tick(): Promise<void> {
    this.#ticking ??= (async () => {
      try {
        if (!(await this.#lead())) return;
        await this.fireDue();
        await this.applyRetention();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'scheduler pass failed');
      } finally {
        this.#ticking = undefined;
      }
    })();
    return this.#ticking;
  }

  async #lead(): Promise<boolean> {
    if (isEmbedded(this.db)) return true;
    if (this.#lockConnection) {
      try {
        await this.#lockConnection.query('select 1');
        return true;
      } catch {
        // The connection (and with it the lock) is gone: compete again. The dead
        // connection goes back to the pool, which discards it; kept, it would
        // leak a pool slot and make the pool's destroy() wait for it forever.
        const dead = this.#lockConnection;
        this.#lockConnection = undefined;
        this.log.warn('lost the scheduler lead (its database connection ended)');
        await this.db.client.releaseConnection(dead).catch(() => undefined);
      }
    }
    const conn = (await this.db.client.acquireConnection()) as PgConnection;
    let locked = false;
    try {
      const { rows } = await conn.query('select pg_try_advisory_lock($1) as locked', [LEADER_LOCK_KEY]);
      locked = rows[0]?.locked === true;
    } finally {
      if (!locked) await this.db.client.releaseConnection(conn);
    }
    if (locked) {
      this.#lockConnection = conn;
      this.log.info('took the scheduler lead');
    }
    return locked;
  }

  /** Starts a protect for every policy whose next run is due, and moves its next run past now. */
  async fireDue(now = new Date()): Promise<string[]> {
    const started: string[] = [];
    const due = (await this.db('policies').whereNotNull('schedule').where('next_run_at', '<=', now)) as Array<
      PolicyRow & { schedule: Schedule }
    >;
    for (const candidate of due) {
      const claimed = await this.db.transaction(async (trx) => {
        const row = (await trx('policies')
          .where({ id: candidate.id })
          .where('next_run_at', '<=', now)
          .forUpdate()
          .skipLocked()
          .first()) as (PolicyRow & { schedule: Schedule }) | undefined;
        if (!row) return undefined;
        // Next run after *now*, not after the missed time: a backlog fires once.
        await trx('policies')
          .where({ id: row.id })
          .update({ next_run_at: nextRun(row.schedule, now), last_run_at: now });
        return row;
      });
      if (!claimed) continue;
      try {
        const { executionId } = await startProtect(this.db, {
          policy: claimed,
          ctx: scheduleContext(claimed),
          trigger: 'schedule',
        });
        await announceExecution(this.transport, executionId);
        started.push(executionId);
        this.log.info({ policy_id: claimed.id, execution_id: executionId }, 'scheduled protect started');
      } catch (err) {
        const why = err instanceof DragonError ? err.message : (err as Error).message;
        this.log.warn({ policy_id: claimed.id, err: why }, 'scheduled protect not started');
      }
    }
    return started;
  }

  /** Deletes checkpoints retention no longer wants, never the newest available one. */
  async applyRetention(now = new Date()): Promise<string[]> {
    const started: string[] = [];
    const policies = (await this.db('policies').whereNotNull('retention')) as Array<
      PolicyRow & { retention: Retention }
    >;
    for (const policy of policies) {
      const available = (await this.db('checkpoints')
        .where({ policy_id: policy.id, status: 'available' })
        .orderBy('created_at', 'desc')) as CheckpointRow[];
      for (const checkpoint of expiredCheckpoints(available, policy.retention, now)) {
        try {
          const executionId = await startDelete(this.db, checkpoint, scheduleContext(policy));
          await announceExecution(this.transport, executionId);
          started.push(executionId);
          this.log.info(
            { policy_id: policy.id, checkpoint_id: checkpoint.id },
            'retention deletes a checkpoint',
          );
        } catch (err) {
          this.log.warn(
            { checkpoint_id: checkpoint.id, err: (err as Error).message },
            'retention delete not started',
          );
        }
      }
    }
    return started;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#ticking;
    if (this.#lockConnection) {
      const conn = this.#lockConnection;
      this.#lockConnection = undefined;
      await conn.query('select pg_advisory_unlock($1)', [LEADER_LOCK_KEY]).catch(() => undefined);
      await this.db.client.releaseConnection(conn).catch(() => undefined);
    }
  }
}

/**
 * The execution kinds of protection — protect, verify, delete_checkpoint —
 * as hooks on the generic engine: what their steps get in their context
 * (site clients acting through the policy's trust, the checkpoint's bank),
 * the built-in steps that end a protect (template, manifest), and what the
 * outcome does to the checkpoint row and its container.
 */
import { hostname } from 'node:os';
import type { Knex } from 'knex';
import type { Config } from '../../common/config/index.js';
import type { RequestContext } from '../../common/context.js';
import type { Logger } from '../../common/log.js';
import {
  type CheckpointRow,
  MANIFEST_ACTION,
  PAUSE_ACTION,
  PAUSE_STEP,
  REMOVE_CONTAINER_ACTION,
  TEMPLATE_ACTION,
  TEMPLATE_STEP,
  VERIFY_ACTION,
} from '../../common/objects/checkpoints.js';
import type { PolicyRow } from '../../common/objects/policies.js';
import type { NotificationPriority, Transport } from '../../common/rpc/types.js';
import { defaultPrimarySite } from '../../common/sites/registry.js';
import { CheckpointBankWriter, deleteCheckpoint, openCheckpoint, TEMPLATE_OBJECT } from '../bank/index.js';
import { builtin } from '../builtins.js';
import type { ExecutionKindHooks, PreparedRun } from '../executor.js';
import type { CheckpointContext, ProtectContext } from '../plugin-api.js';
import type { LoadedPlugin } from '../plugins/loader.js';
import { type OpenSiteClients, siteClientsFor } from '../sites.js';
import type { ExecutionRow, StepRow } from '../store.js';
import { narrowProtectGraph } from './graph.js';
import { pauseServers, unpauseServers } from './pause.js';
import { referenceLedger, removeCheckpointContainer } from './reuse.js';
import { buildWorkloadTemplate, validateWorkloadTemplate } from './template/index.js';

/** The steps as the engine recorded them, written into the bank before the manifest. */
export const EXECUTION_LOG_OBJECT = 'execution-log.json';

interface Deps {
  conf: Config;
  db: Knex;
  /** Where checkpoint notifications go (none when absent). */
  transport?: Transport;
  /** The engine's host, for the notifications' publisher_id `dragon-engine.<host>`. */
  host?: string;
}

/** The context notifications carry: who the execution acts for (never a token). */
function executionContext(row: ExecutionRow): RequestContext {
  return {
    requestId: row.request_id ?? `req-${row.id}`,
    userId: row.user_id ?? 'dragon',
    projectId: row.project_id,
    roles: [],
    isAdminProject: false,
  };
}

async function load(db: Knex, row: ExecutionRow): Promise<{ policy: PolicyRow; checkpoint: CheckpointRow }> {
  const checkpoint = (await db('checkpoints').where({ id: row.params.checkpoint_id }).first()) as
    | CheckpointRow
    | undefined;
  if (!checkpoint) throw new Error(`checkpoint ${String(row.params.checkpoint_id)} no longer exists`);
  const policy = (await db('policies')
    .where({ id: checkpoint.policy_id ?? row.policy_id })
    .first()) as PolicyRow | undefined;
  if (!policy) throw new Error(`the policy of checkpoint ${checkpoint.id} no longer exists`);
  return { policy, checkpoint };
}

async function openSites(
  deps: Deps,
  policy: PolicyRow,
  row: ExecutionRow,
  log: Logger,
  withPrimary: boolean,
) {
  const open = (siteName: string) =>
    siteClientsFor({
      conf: deps.conf,
      db: deps.db,
      siteName,
      projectId: policy.project_id,
      trustId: policy.trust_id,
      logger: log,
      globalRequestId: row.request_id ?? undefined,
    });
  const backup = await open(policy.backup_site ?? '');
  let primary: OpenSiteClients | undefined;
  if (withPrimary) {
    try {
      primary = await open(policy.primary_site ?? defaultPrimarySite(deps.conf) ?? '');
    } catch (err) {
      await backup.close();
      throw err;
    }
  }
  return {
    primary,
    backup,
    close: async () => void (await Promise.allSettled([primary?.close(), backup.close()])),
  };
}

/** Results of every succeeded step of an execution, by step name. */
async function stepResults(db: Knex, executionId: string): Promise<Record<string, unknown>> {
  const rows = await db('execution_steps')
    .where({ execution_id: executionId, status: 'succeeded' })
    .orderBy('name');
  return Object.fromEntries(rows.map((r: { name: string; result: unknown }) => [r.name, r.result]));
}

/** Servers the pause step of an execution paused (its result; a failed pause step unpauses its own). */
async function pausedServersIn(db: Knex, executionId: string): Promise<string[]> {
  const step = await db('execution_steps').where({ execution_id: executionId, name: PAUSE_STEP }).first();
  const paused = (step?.result as { paused?: unknown } | null)?.paused;
  return Array.isArray(paused) ? paused.map(String) : [];
}

/** A policy's bank readers as a Swift read ACL: `<project>:*`, comma-joined (entries with a `:` as given). */
export function bankReadAcl(readers: string[] | null | undefined): string | undefined {
  const entries = (readers ?? [])
    .map((r) => r.trim())
    .filter(Boolean)
    .map((r) => (r.includes(':') ? r : `${r.replace(/^AUTH_/, '')}:*`));
  return entries.length > 0 ? entries.join(',') : undefined;
}

/**
 * The public keys of the servers' key pairs, by name: recovery creates a key
 * pair the backup site lacks from it (Nova never gives private keys out, and
 * the public key is all a server needs). A key pair that cannot be read is
 * left out; recovery then asks for a mapping.
 */
async function recordKeyPairs(
  primary: OpenSiteClients | ProtectContext['primary'],
  servers: Array<{ key_name: string | null }>,
  log: { warn(o: object, m: string): void },
): Promise<Record<string, string>> {
  const names = [...new Set(servers.map((s) => s.key_name).filter((n): n is string => Boolean(n)))].sort();
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      const kp = await primary.nova.getKeypair(name);
      if (kp.public_key) out[name] = kp.public_key;
    } catch (err) {
      log.warn({ key_name: name, err: (err as Error).message }, 'key pair not recorded');
    }
  }
  return out;
}

/**
 * The execution's steps, and the dependencies its server steps keep once the primary says which
 * volumes each server uses (the plan made every server wait for every volume). Never throws: when
 * the primary cannot be read, the plan stays as it is.
 */
async function narrowGraphOf(
  db: Knex,
  row: ExecutionRow,
  primary: OpenSiteClients,
  log: Logger,
): Promise<{ steps: StepRow[]; narrowed?: Record<string, string[]> }> {
  const steps = (await db('execution_steps').where({ execution_id: row.id })) as StepRow[];
  try {
    return { steps, narrowed: await narrowProtectGraph(steps, primary) };
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      'could not list the volumes at the primary; every server step waits for every volume step',
    );
    return { steps };
  }
}

export function protectionKinds(deps: Deps): {
  kinds: Record<string, ExecutionKindHooks>;
  builtins: LoadedPlugin[];
} {
  const { db } = deps;
  const pausedServers = (executionId: string) => pausedServersIn(db, executionId);
  const narrowGraph = (row: ExecutionRow, primary: OpenSiteClients, log: Logger) =>
    narrowGraphOf(db, row, primary, log);
  /** The early unpause of a run, once started (the final one waits for it). */
  const earlyUnpause = new WeakMap<PreparedRun, Promise<void>>();

  /** dragon.checkpoint.create.{start,end,error}, oslo style; a lost notification never fails the protect. */
  const notifyCheckpoint = async (
    row: ExecutionRow,
    event: 'start' | 'end' | 'error',
    payload: { checkpoint_id: string; policy_id: string | null; container: string; error?: string },
    log: Logger,
  ) => {
    if (!deps.transport) return;
    const priority: NotificationPriority = event === 'error' ? 'error' : 'info';
    await deps.transport
      .notify(
        `dragon.checkpoint.create.${event}`,
        { ...payload, project_id: row.project_id },
        executionContext(row),
        priority,
        `dragon-engine.${deps.host ?? hostname()}`,
      )
      .catch((err) => log.warn({ err: (err as Error).message, event }, 'checkpoint notification not sent'));
  };

  const protect: ExecutionKindHooks = {
    async prepare(row, log): Promise<PreparedRun> {
      const { policy, checkpoint } = await load(db, row);
      const sites = await openSites(deps, policy, row, log, true);
      // Read at the primary while the bank is made at the backup site: neither waits for the other.
      const narrowing = narrowGraph(row, sites.primary!, log);
      try {
        let bank: CheckpointBankWriter;
        if (!checkpoint.container) {
          bank = await CheckpointBankWriter.create({
            swift: sites.backup.swift,
            policy: { id: policy.id, name: policy.name },
            projectId: policy.project_id,
            checkpointId: checkpoint.id,
            date: new Date(checkpoint.created_at),
            readAcl: bankReadAcl(policy.bank_readers),
          });
          await db('checkpoints')
            .where({ id: checkpoint.id })
            .update({ container: bank.container, updated_at: new Date() });
          // Once per checkpoint: an engine taking the protect over resumes it, it does not start it again.
          await notifyCheckpoint(
            row,
            'start',
            { checkpoint_id: checkpoint.id, policy_id: policy.id, container: bank.container },
            log,
          );
        } else {
          // Taken over from another engine: continue in the same container.
          bank = await CheckpointBankWriter.resume({
            swift: sites.backup.swift,
            container: checkpoint.container,
          });
        }
        // Earlier checkpoints of the project in this bank may hold an unchanged copy (issue 6).
        await bank.useLedger(
          referenceLedger(db, sites.backup.swift, checkpoint, log, bankReadAcl(policy.bank_readers)),
        );
        const context: Omit<ProtectContext, keyof import('../plugin-api.js').StepContext> &
          Record<string, unknown> = {
          primary: sites.primary!,
          backup: sites.backup,
          bank,
          checkpointId: checkpoint.id,
          policy,
        };
        const prepared: PreparedRun = { context, close: sites.close };
        const { steps, narrowed } = await narrowing;
        prepared.narrowDependencies = narrowed;
        if (row.params.consistency === 'paused') {
          // Unpause as soon as every resource step is past its point-in-time capture.
          const waiting = new Set(
            steps
              .filter(
                (s: { name: string; status: string }) =>
                  !s.name.startsWith('zz-') && s.status !== 'succeeded',
              )
              .map((s: { name: string }) => s.name),
          );
          const maybeUnpause = () => {
            if (earlyUnpause.has(prepared) || waiting.size > 0) return;
            earlyUnpause.set(
              prepared,
              pausedServers(row.id)
                .then((ids) => (ids.length > 0 ? unpauseServers(sites.primary!.nova, ids, log) : undefined))
                .catch((err) =>
                  log.warn({ err: (err as Error).message }, 'early unpause failed; retried at the end'),
                ),
            );
          };
          prepared.pointInTime = (step) => {
            if (step.name === PAUSE_STEP) return;
            waiting.delete(step.name);
            maybeUnpause();
          };
          // Taken over after every capture was done (the servers may still be paused): unpause now.
          maybeUnpause();
        }
        return prepared;
      } catch (err) {
        await narrowing.catch(() => undefined);
        await sites.close();
        throw err;
      }
    },
    async finished(row, outcome, prepared, log) {
      const checkpointId = String(row.params.checkpoint_id);
      const primary = (prepared?.context as Partial<ProtectContext> | undefined)?.primary;
      if (row.params.consistency === 'paused' && primary) {
        // Always, whatever the outcome: a server must not stay paused because a protect failed.
        // After the early unpause (if one started), so the two never race on one server.
        if (prepared) await earlyUnpause.get(prepared);
        const ids = await pausedServers(row.id);
        if (ids.length > 0)
          await unpauseServers(primary.nova, ids, log).catch((err) =>
            log.error(
              { err: (err as Error).message, servers: ids },
              'could not unpause the servers of the policy',
            ),
          );
      }
      const bank = prepared?.context.bank as CheckpointBankWriter | undefined;
      const now = new Date();
      if (outcome.status === 'succeeded') {
        const manifest = (await stepResults(db, row.id))['zz-manifest'] as {
          total_size?: number;
          object_count?: number;
          resources?: number;
          template_parameters?: number;
        };
        const checkpointRow = await db('checkpoints').where({ id: checkpointId }).first();
        await db('checkpoints')
          .where({ id: checkpointId })
          .update({
            status: 'available',
            size_bytes: manifest?.total_size ?? 0,
            object_count: manifest?.object_count ?? 0,
            summary: JSON.stringify({
              resources: manifest?.resources ?? 0,
              template_parameters: manifest?.template_parameters ?? 0,
              trigger: row.params.trigger ?? 'api',
              consistency: row.params.consistency ?? 'none',
              duration_s: checkpointRow
                ? Math.round((now.getTime() - new Date(checkpointRow.created_at).getTime()) / 100) / 10
                : null,
            }),
            error: null,
            updated_at: now,
            finished_at: now,
          });
        await notifyCheckpoint(
          row,
          'end',
          { checkpoint_id: checkpointId, policy_id: row.policy_id, container: bank?.container ?? '' },
          log,
        );
        return;
      }
      const reason = outcome.status === 'cancelled' ? 'cancelled' : (outcome.error ?? 'failed');
      // A half-written checkpoint is never offered for recovery: marked in the bank, and removed on cancel.
      if (bank) {
        if (outcome.status === 'cancelled') {
          const stored = (await db('checkpoints').where({ id: checkpointId }).first()) as
            | CheckpointRow
            | undefined;
          // Also lets go of the retained containers it referenced.
          await (stored
            ? removeCheckpointContainer(db, bank.swift, { ...stored, container: bank.container }, log)
            : deleteCheckpoint({ swift: bank.swift, container: bank.container })
          ).catch((err) =>
            log.warn({ err: (err as Error).message }, 'could not remove the cancelled checkpoint container'),
          );
        } else {
          await bank
            .markError(reason)
            .catch((err) =>
              log.warn({ err: (err as Error).message }, 'could not mark the checkpoint container as failed'),
            );
        }
      }
      await db('checkpoints')
        .where({ id: checkpointId })
        .update({
          status: outcome.status === 'cancelled' ? 'deleted' : 'error',
          error: reason,
          updated_at: now,
          finished_at: now,
        });
      const stored = (await db('checkpoints').where({ id: checkpointId }).first()) as
        | CheckpointRow
        | undefined;
      await notifyCheckpoint(
        row,
        'error',
        {
          checkpoint_id: checkpointId,
          policy_id: row.policy_id,
          container: bank?.container ?? stored?.container ?? '',
          error: reason,
        },
        log,
      );
    },
  };

  /** Verify and delete read the bank at the backup site; delete also gives each action what its protect saved. */
  const checkpointRun =
    (withWriterless: 'verify' | 'delete'): ExecutionKindHooks['prepare'] =>
    async (row, log) => {
      const { policy, checkpoint } = await load(db, row);
      const sites = await openSites(deps, policy, row, log, withWriterless === 'delete');
      try {
        const bank = checkpoint.container
          ? await openCheckpoint({ swift: sites.backup.swift, container: checkpoint.container }).catch(
              (err) => {
                if (withWriterless === 'verify') throw err;
                return undefined; // deleting an incomplete checkpoint: nothing to read, the container still goes
              },
            )
          : undefined;
        const saved = checkpoint.execution_id ? await stepResults(db, checkpoint.execution_id) : {};
        return {
          context: {
            primary: sites.primary,
            backup: sites.backup,
            bank,
            checkpointId: checkpoint.id,
            checkpoint,
          },
          stepContext: (step) => ({ saved: (saved[step.name] as Record<string, unknown>) ?? {} }),
          close: sites.close,
        };
      } catch (err) {
        await sites.close();
        throw err;
      }
    };

  const verify: ExecutionKindHooks = { prepare: checkpointRun('verify') };

  const deleteCheckpointKind: ExecutionKindHooks = {
    prepare: checkpointRun('delete'),
    async finished(row, outcome) {
      const now = new Date();
      await db('checkpoints')
        .where({ id: String(row.params.checkpoint_id) })
        .update(
          outcome.status === 'succeeded'
            ? { status: 'deleted', updated_at: now, finished_at: now }
            : { status: 'error', error: `delete ${outcome.status}: ${outcome.error ?? ''}`, updated_at: now },
        );
    },
  };

  const builtins = [
    builtin(PAUSE_ACTION, 'Pauses every server of the policy (Nova pause) for a consistent point in time.', {
      async protect(ctx) {
        const policy = (ctx as ProtectContext & { policy: PolicyRow }).policy;
        const servers = await db('policy_resources')
          .where({ policy_id: policy.id, resource_type: 'OS::Nova::Server' })
          .orderBy('resource_id');
        const paused = await pauseServers(
          ctx.primary.nova,
          servers.map((r: { resource_id: string }) => r.resource_id),
          ctx.log,
          ctx.signal,
        );
        return { paused };
      },
    }),
    builtin(TEMPLATE_ACTION, 'Writes the Heat template of the workload into the checkpoint.', {
      async protect(ctx) {
        const policy = (ctx as ProtectContext & { policy: PolicyRow }).policy;
        const resources = await db('policy_resources').where({ policy_id: policy.id }).orderBy('resource_id');
        const template = await buildWorkloadTemplate(
          resources.map((r: { resource_id: string; resource_type: string }) => ({
            resource_id: r.resource_id,
            resource_type: r.resource_type,
          })) as never,
          ctx.primary,
        );
        ctx.progress(50);
        const keyPairs = await recordKeyPairs(ctx.primary, Object.values(template.servers), ctx.log);
        // The template must be usable where it will be used: validated by the backup site's Heat now.
        await validateWorkloadTemplate(template, ctx.backup);
        await ctx.bank.put(TEMPLATE_OBJECT, template.template, { contentType: 'application/x-yaml' });
        return {
          object: TEMPLATE_OBJECT,
          parameters: template.parameters,
          graph: template.graph,
          servers: template.servers,
          volumes: template.volumes,
          key_pairs: keyPairs,
        };
      },
    }),
    builtin(MANIFEST_ACTION, 'Writes manifest.json, last: the checkpoint becomes usable.', {
      async protect(ctx) {
        const c = ctx as ProtectContext & { policy: PolicyRow };
        const bank = c.bank as CheckpointBankWriter;
        const results = await stepResults(db, ctx.executionId);
        const template = results[TEMPLATE_STEP] as {
          object: string;
          parameters: Record<string, unknown>;
          graph: unknown[];
          servers?: Record<string, unknown>;
          volumes?: Record<string, unknown>;
          key_pairs?: Record<string, string>;
        };
        const resources = await db('policy_resources')
          .where({ policy_id: c.policy.id })
          .orderBy('resource_id');
        const steps = Object.fromEntries(Object.entries(results).filter(([name]) => !name.startsWith('zz-')));
        // The execution log: every step as the engine recorded it, for whoever reads the bank alone.
        const log = await db('execution_steps')
          .where({ execution_id: ctx.executionId })
          .orderBy('name')
          .select(
            'name',
            'action',
            'resource_id',
            'resource_type',
            'status',
            'attempts',
            'error',
            'started_at',
            'finished_at',
          );
        await bank.putJson(EXECUTION_LOG_OBJECT, {
          execution_id: ctx.executionId,
          checkpoint_id: c.checkpointId,
          steps: log,
        });
        const manifest = await bank.writeManifest({
          policy: {
            id: c.policy.id,
            name: c.policy.name,
            description: c.policy.description,
            project_id: c.policy.project_id,
            primary_site: c.policy.primary_site ?? undefined,
            backup_site: c.policy.backup_site ?? undefined,
            resources: resources.map((r: Record<string, unknown>) => ({
              resource_id: r.resource_id,
              resource_type: r.resource_type,
              resource_name: r.resource_name,
              action: r.action,
              options: r.options,
              required: r.required,
            })),
          },
          graph: template.graph,
          steps,
          template: {
            object: template.object,
            parameters: template.parameters,
            servers: template.servers ?? {},
            volumes: template.volumes ?? {},
            key_pairs: template.key_pairs ?? {},
          },
        });
        return {
          total_size: manifest.total_size,
          object_count: manifest.objects.length,
          resources: resources.length,
          template_parameters: Object.keys(template.parameters).length,
        };
      },
    }),
    builtin(VERIFY_ACTION, 'Re-reads every object of a checkpoint and compares SHA-256 and size.', {
      async verify(ctx: CheckpointContext) {
        const bank = ctx.bank as unknown as {
          verify(): Promise<{ ok: boolean; problems: Array<{ object: string; problem: string }> }>;
        };
        const result = await bank.verify();
        if (!result.ok) {
          throw new Error(
            `checkpoint ${ctx.checkpointId} is damaged: ${result.problems.map((p) => `${p.object} (${p.problem})`).join(', ')}`,
          );
        }
        return result;
      },
    }),
    builtin(REMOVE_CONTAINER_ACTION, "Removes the checkpoint's container from the bank.", {
      async delete(ctx: CheckpointContext) {
        const c = ctx as CheckpointContext & { checkpoint: CheckpointRow };
        // Objects newer checkpoints reference stay (container `retained`); retained containers
        // only this checkpoint still referenced go.
        const { retained, collected } = await removeCheckpointContainer(
          db,
          ctx.backup.swift,
          c.checkpoint,
          ctx.log,
        );
        return {
          container: c.checkpoint.container || null,
          ...(retained.length > 0 ? { retained } : {}),
          ...(collected.length > 0 ? { collected } : {}),
        };
      },
    }),
  ];

  return { kinds: { protect, verify, delete_checkpoint: deleteCheckpointKind }, builtins };
}

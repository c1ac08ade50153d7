/**
 * The execution kinds of recovery — recover (also a dry run) and
 * recovery_delete — as hooks on the generic engine. Everything a recovery
 * reads comes from the bank: the manifest, the template and the objects
 * the plugins saved. The target site is reached for the project through
 * the recovery's own trust (or the site's application credential).
 */
import type { Knex } from 'knex';
import { parse } from 'yaml';
import { keystoneAuthtokenOpts } from '../../api/auth/opts.js';
import { mapLimited } from '../../common/concurrency.js';
import type { Config } from '../../common/config/index.js';
import type { Logger } from '../../common/log.js';
import {
  CHECKS_ACTION,
  CHECKS_STEP,
  RECOVER_PLAN_ACTION,
  RECOVER_PLAN_STEP,
  RECOVER_VERIFY_ACTION,
  type RecoveryRow,
  STACK_ACTION,
  STACK_STEP,
  TEARDOWN_ACTION,
} from '../../common/objects/recoveries.js';
import { OpenStackHttpError } from '../../common/openstack/errors.js';
import type { SwiftClient } from '../../common/openstack/swift.js';
import { deleteTrust, serviceUserFromConf, serviceUserSession } from '../../common/openstack/trusts.js';
import {
  type CheckpointBankReader,
  openCheckpoint,
  swiftForAccount,
  TEMPLATE_OBJECT,
} from '../bank/index.js';
import { builtin } from '../builtins.js';
import type { ExecutionKindHooks, PreparedRun } from '../executor.js';
import type { CreatedResource, RecoverContext, StepContext } from '../plugin-api.js';
import type { LoadedPlugin } from '../plugins/loader.js';
import { type OpenSiteClients, siteClientsFor } from '../sites.js';
import type { ExecutionRow } from '../store.js';
import { type Check, serverChecks, volumeChecks } from './checks.js';
import {
  concreteParameters,
  type ManifestServer,
  type Problem,
  planRecovery,
  type RecoveryMapping,
  type RecoveryPlan,
} from './plan.js';
import { preflight } from './preflight.js';
import { teardownRecovery } from './teardown.js';

interface Deps {
  conf: Config;
  db: Knex;
  /** The engine's loaded plugins (for their `plan` hooks in a dry run); read when a plan runs. */
  plugins: () => Map<string, LoadedPlugin>;
  /** How many plugin plans run at once (the engine's max_parallel_steps). */
  planConcurrency?: number;
}

/** The plan step's result: the plan, with each plugin's own plan per step. */
export interface StoredPlan extends RecoveryPlan {
  checkpoint: { id: string; container: string; created_at: string; policy: { id: string; name: string } };
  site: string;
}

interface RecoveryContext {
  backup: OpenSiteClients;
  bank: CheckpointBankReader;
  bankSwift: SwiftClient;
  checkpointId: string;
  recovery: RecoveryRow;
  shared: { plan?: StoredPlan };
}

// A stack show without outputs is cheap for Heat: polling at most every second keeps the RTO from
// waiting out a long back-off after a quick stack (the recovery time is what the user measures).
const STACK_WAIT = { intervalMs: 250, maxIntervalMs: 1000, timeoutMs: 2 * 3600_000 };

async function loadRecovery(db: Knex, row: ExecutionRow): Promise<RecoveryRow> {
  const rec = (await db('recoveries').where({ id: row.params.recovery_id }).first()) as
    | RecoveryRow
    | undefined;
  if (!rec) throw new Error(`recovery ${String(row.params.recovery_id)} no longer exists`);
  return rec;
}

/** Results of every succeeded step of an execution, by step name. */
async function stepResults(db: Knex, executionId: string | null): Promise<Record<string, unknown>> {
  if (!executionId) return {};
  const rows = await db('execution_steps').where({ execution_id: executionId, status: 'succeeded' });
  return Object.fromEntries(rows.map((r: { name: string; result: unknown }) => [r.name, r.result]));
}

/** Everything the recovery made at its site, as far as the database knows. */
async function createdBy(db: Knex, rec: RecoveryRow): Promise<CreatedResource[]> {
  const results = await stepResults(db, rec.execution_id);
  const created: CreatedResource[] = [];
  for (const r of Object.values(results)) {
    const list = (r as { created?: unknown } | null)?.created;
    if (Array.isArray(list)) created.push(...(list as CreatedResource[]));
  }
  const keys = (rec.result as { created_key_pairs?: string[] } | null)?.created_key_pairs ?? [];
  for (const k of keys) created.push({ type: 'OS::Nova::KeyPair', id: k });
  return created;
}

async function openSites(deps: Deps, rec: RecoveryRow, row: ExecutionRow, log: Logger, withBank: boolean) {
  const open = (siteName: string) =>
    siteClientsFor({
      conf: deps.conf,
      db: deps.db,
      siteName,
      projectId: rec.project_id,
      trustId: rec.trust_id,
      logger: log,
      globalRequestId: row.request_id ?? undefined,
    });
  const site = await open(rec.site);
  let bankClients: OpenSiteClients = site;
  try {
    if (withBank && rec.bank_site !== rec.site) bankClients = await open(rec.bank_site);
  } catch (err) {
    await site.close();
    throw err;
  }
  const bankSwift = rec.bank_account
    ? swiftForAccount(bankClients.session, rec.bank_account)
    : bankClients.swift;
  return {
    site,
    bankSwift,
    close: async () => {
      await Promise.allSettled([site.close(), bankClients === site ? undefined : bankClients.close()]);
    },
  };
}

async function readText(bank: CheckpointBankReader, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await bank.get(name)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Appends to the recovery's result as things are made, so a rollback finds them even if the step dies. */
async function noteKeyPair(db: Knex, id: string, name: string): Promise<void> {
  await db.transaction(async (trx) => {
    const rec = (await trx('recoveries').where({ id }).forUpdate().first()) as RecoveryRow;
    const result = { ...(rec.result ?? {}) } as { created_key_pairs?: string[] };
    result.created_key_pairs = [...new Set([...(result.created_key_pairs ?? []), name])];
    await trx('recoveries')
      .where({ id })
      .update({ result: JSON.stringify(result), updated_at: new Date() });
  });
}

/** The primary addresses on each port, from the template's fixed_ips (as recorded at protect). */
function recordedAddresses(templateText: string): Map<string, string[]> {
  const hot = parse(templateText) as {
    resources?: Record<string, { type: string; properties?: Record<string, unknown> }>;
  };
  const out = new Map<string, string[]>();
  for (const [name, r] of Object.entries(hot.resources ?? {})) {
    if (r.type !== 'OS::Neutron::Port') continue;
    const ips = ((r.properties?.fixed_ips as Array<{ ip_address?: string }> | undefined) ?? [])
      .map((f) => f.ip_address)
      .filter((x): x is string => typeof x === 'string');
    out.set(name, ips);
  }
  return out;
}

export function recoveryKinds(deps: Deps): {
  kinds: Record<string, ExecutionKindHooks>;
  builtins: LoadedPlugin[];
} {
  const { db } = deps;

  const recover: ExecutionKindHooks = {
    async prepare(row, log): Promise<PreparedRun> {
      const rec = await loadRecovery(db, row);
      const sites = await openSites(deps, rec, row, log, true);
      try {
        // No manifest, no recovery: this names manifest.json when it is missing.
        const bank = await openCheckpoint({ swift: sites.bankSwift, container: rec.container });
        const shared: RecoveryContext['shared'] = {
          plan: (await stepResults(db, row.id))[RECOVER_PLAN_STEP] as StoredPlan | undefined,
        };
        const context: RecoveryContext = {
          backup: sites.site,
          bank,
          bankSwift: sites.bankSwift,
          checkpointId: bank.manifest.checkpoint_id,
          recovery: rec,
          shared,
        };
        return {
          context: context as unknown as Record<string, unknown>,
          stepContext: (step) => ({
            saved: (bank.manifest.steps?.[step.name] as Record<string, unknown> | undefined) ?? {},
            target: shared.plan?.steps.find((s) => s.name === step.name)?.target ?? {},
          }),
          close: sites.close,
        };
      } catch (err) {
        await sites.close();
        throw err;
      }
    },

    async finished(row, outcome, prepared, log) {
      const rec = await loadRecovery(db, row);
      const results = await stepResults(db, row.id);
      const plan = (results[RECOVER_PLAN_STEP] as StoredPlan | undefined) ?? null;
      const now = new Date();
      if (outcome.status === 'succeeded' && rec.dry_run) {
        await db('recoveries')
          .where({ id: rec.id })
          .update({ status: 'planned', plan: JSON.stringify(plan), updated_at: now, finished_at: now });
        return;
      }
      const created = await createdBy(db, rec);
      if (outcome.status === 'succeeded') {
        const stack = results[STACK_STEP] as Record<string, unknown>;
        const checks = (results[CHECKS_STEP] as { checks?: Check[] } | undefined)?.checks ?? [];
        const execution = await db('executions').where({ id: row.id }).first();
        const stackStep = await db('execution_steps')
          .where({ execution_id: row.id, name: STACK_STEP })
          .first();
        const started = new Date(execution?.started_at ?? execution?.created_at ?? now).getTime();
        const checkpointAt = plan?.checkpoint.created_at
          ? new Date(plan.checkpoint.created_at).getTime()
          : undefined;
        await db('recoveries')
          .where({ id: rec.id })
          .update({
            status: 'available',
            plan: JSON.stringify(plan),
            result: JSON.stringify({
              ...(rec.result ?? {}),
              ...stack,
              checks,
              created,
              // Time to recover: from the start of the execution to the stack being complete.
              rto_seconds: stackStep?.finished_at
                ? Math.round((new Date(stackStep.finished_at).getTime() - started) / 100) / 10
                : null,
              // Data lost in the disaster: how old the checkpoint was when recovery began.
              rpo_seconds: checkpointAt !== undefined ? Math.round((started - checkpointAt) / 1000) : null,
              checkpoint_created_at: plan?.checkpoint.created_at ?? null,
            }),
            error: null,
            updated_at: now,
            finished_at: now,
          });
        return;
      }
      const context = prepared?.context as unknown as RecoveryContext | undefined;
      const rollback = outcome.status === 'cancelled' || rec.on_failure === 'rollback';
      const current = (await db('recoveries').where({ id: rec.id }).first()) as RecoveryRow;
      let result: Record<string, unknown> = { ...(current.result ?? {}) };
      if (rollback && context) {
        const torn = await teardownRecovery({
          site: context.backup,
          stack: current.stack_id ? { name: current.stack_name, id: current.stack_id } : null,
          created,
          log,
        });
        result = { ...result, rolled_back: true, removed: torn.removed, not_removed: torn.failed };
      } else {
        result = {
          ...result,
          rolled_back: false,
          // on_failure: keep — left in place for inspection; DELETE removes them.
          kept: [
            ...(current.stack_id
              ? [{ type: 'OS::Heat::Stack', id: current.stack_id, name: current.stack_name }]
              : []),
            ...created,
          ],
        };
      }
      await db('recoveries')
        .where({ id: rec.id })
        .update({
          status: outcome.status === 'cancelled' ? 'cancelled' : 'error',
          plan: JSON.stringify(plan),
          result: JSON.stringify(result),
          error: outcome.status === 'cancelled' ? 'cancelled' : (outcome.error ?? 'failed'),
          updated_at: now,
          finished_at: now,
        });
    },
  };

  const recoveryDelete: ExecutionKindHooks = {
    async prepare(row, log) {
      const rec = await loadRecovery(db, row);
      const sites = await openSites(deps, rec, row, log, false);
      return {
        context: { backup: sites.site, recovery: rec } as Record<string, unknown>,
        close: sites.close,
      };
    },
    async finished(row, outcome, _prepared, log) {
      const rec = await loadRecovery(db, row);
      const now = new Date();
      if (outcome.status !== 'succeeded') {
        await db('recoveries')
          .where({ id: rec.id })
          .update({
            status: 'error',
            error: `delete ${outcome.status}: ${outcome.error ?? ''}`,
            updated_at: now,
          });
        return;
      }
      await db('recoveries')
        .where({ id: rec.id })
        .update({ status: 'deleted', updated_at: now, finished_at: now });
      if (rec.trust_id) await removeTrust(deps.conf, rec.trust_id, log);
    },
  };

  const builtins = [
    builtin(
      RECOVER_VERIFY_ACTION,
      "Re-reads every object of the checkpoint and compares it with the manifest's SHA-256.",
      {
        async recover(ctx) {
          const c = ctx as RecoverContext & RecoveryContext;
          const result = await c.bank.verify({ signal: ctx.signal });
          if (!result.ok)
            throw new Error(
              `checkpoint ${c.bank.container} is damaged, nothing was created: ${result.problems
                .map(
                  (p) =>
                    `object ${p.object} ${p.problem === 'missing' ? 'is missing' : `does not match the manifest (${p.detail})`}`,
                )
                .join('; ')}`,
            );
          return { objects: c.bank.manifest.objects.length, bytes: result.bytesRead };
        },
      },
    ),
    builtin(
      RECOVER_PLAN_ACTION,
      'Plans the recovery: the template and parameters for the target, and every problem found up front.',
      {
        async recover(ctx) {
          const c = ctx as RecoverContext & RecoveryContext;
          const { manifest } = c.bank;
          const rec = c.recovery;
          const templateObject = manifest.template?.object ?? TEMPLATE_OBJECT;
          const text = await readText(c.bank, templateObject);
          const mapping = (rec.mapping ?? {}) as RecoveryMapping;
          const plan = planRecovery(manifest, text, { mapping, drill: rec.drill, tag: rec.id.slice(0, 8) });
          const pre = await preflight({
            manifest,
            plan,
            site: c.backup,
            bank: c.bankSwift,
            container: c.bank.container,
            mapping,
            drill: rec.drill,
          });
          plan.problems.push(...pre.problems);
          plan.warnings.push(...pre.warnings);
          plan.create_key_pairs = plan.create_key_pairs.filter((k) => !pre.existingKeyPairs.includes(k));
          // Each plugin says what its recover would do (and what would stop it).
          const plugins = deps.plugins();
          // Side by side, as wide as the engine runs steps: each plan waits on the site and the bank.
          const steps = await mapLimited(plan.steps, deps.planConcurrency ?? 1, async (step) => {
            const plugin = plugins.get(step.action);
            const resource = (
              manifest.policy.resources as Array<{ resource_id: string; options?: Record<string, unknown> }>
            ).find((r) => r.resource_id === step.resource_id);
            let detail: Record<string, unknown> = {};
            if (!plugin) {
              plan.problems.push({
                kind: 'action',
                subject: step.resource_id,
                message: `action ${step.action} (for ${step.resource_type} ${step.resource_id}) is not loaded on this Dragon's engines`,
              });
            } else if (plugin.impl.plan) {
              try {
                const p = await plugin.impl.plan({
                  ...(ctx as RecoverContext),
                  stepName: step.name,
                  resource: { id: step.resource_id, type: step.resource_type },
                  options: resource?.options ?? {},
                  saved: (manifest.steps?.[step.name] as Record<string, unknown>) ?? {},
                  target: step.target,
                });
                detail = { summary: p.summary, bytes: p.bytes ?? null };
                plan.problems.push(...((p.problems ?? []) as Problem[]));
                plan.warnings.push(...(p.warnings ?? []));
              } catch (err) {
                plan.problems.push({
                  kind: 'action',
                  subject: step.resource_id,
                  message: `${step.action}: ${(err as Error).message}`,
                });
              }
            } else detail = { summary: `${step.action} recover` };
            return { ...step, ...detail };
          });
          const stored: StoredPlan = {
            ...plan,
            steps,
            site: c.backup.name,
            checkpoint: {
              id: manifest.checkpoint_id,
              container: c.bank.container,
              created_at: manifest.created_at,
              policy: { id: manifest.policy.id, name: manifest.policy.name },
            },
          };
          c.shared.plan = stored;
          if (!rec.dry_run && stored.problems.length > 0)
            throw new Error(
              `recovery refused before anything was created: ${stored.problems.map((p) => p.message).join('; ')}`,
            );
          return stored;
        },
      },
    ),
    builtin(STACK_ACTION, 'Creates the Heat stack of the workload with the recovered images and volumes.', {
      async recover(ctx) {
        const c = ctx as RecoverContext & RecoveryContext;
        const plan = ctx.dependencies[RECOVER_PLAN_STEP] as StoredPlan;
        const parameters = concreteParameters(plan.parameters, ctx.dependencies);
        const heat = c.backup.heat;
        const publicKeys = (c.bank.manifest.template?.key_pairs ?? {}) as Record<string, string>;
        for (const name of plan.create_key_pairs) {
          try {
            await c.backup.nova.createKeypair(name, publicKeys[name]);
            await noteKeyPair(db, c.recovery.id, name);
          } catch (err) {
            // Made by an earlier attempt of this step, or by someone meanwhile: used as it is.
            if (!(err instanceof OpenStackHttpError && err.status === 409)) throw err;
          }
        }
        const current = (await db('recoveries').where({ id: c.recovery.id }).first()) as RecoveryRow;
        let stackId = current.stack_id;
        if (!stackId) {
          const created = await heat.createStack({
            name: current.stack_name,
            template: parse(plan.template),
            parameters,
            // Dragon rolls back itself (on_failure): Heat keeps the failed stack for it to report and delete.
            disableRollback: true,
            tags: ['dragon', `dragon-recovery-${current.id}`],
          });
          stackId = created.id;
          await db('recoveries')
            .where({ id: current.id })
            .update({ stack_id: stackId, updated_at: new Date() });
        }
        const ref = { name: current.stack_name, id: stackId };
        ctx.progress(10);
        const complete = await heat.waitForStack(ref, 'CREATE_COMPLETE', {
          ...STACK_WAIT,
          signal: ctx.signal,
        });
        ctx.progress(90);
        const outputs = complete.outputs ?? [];
        const output = (key: string) =>
          (outputs.find((o) => o.output_key === key && !o.output_error)?.output_value ?? {}) as Record<
            string,
            unknown
          >;
        const idMap = output('resource_ids') as Record<string, string>;
        const serverAddresses = output('server_addresses');
        const floating = output('floating_ip_addresses');
        // Fixed IPs: each recorded address on a port → the address the new port got.
        const fixedIps: Record<string, string> = {};
        const recorded = recordedAddresses(plan.template);
        const graph = (c.bank.manifest.graph ?? []) as Array<{ name: string; resource_id: string }>;
        const ported = graph.filter((node) => recorded.get(node.name)?.length && idMap[node.resource_id]);
        await mapLimited(ported, deps.planConcurrency ?? 1, async (node) => {
          const port = await c.backup.neutron.getPort(idMap[node.resource_id]).catch(() => undefined);
          const got = (port?.fixed_ips ?? []).map((f) => f.ip_address);
          recorded.get(node.name)!.forEach((ip, i) => {
            if (got[i]) fixedIps[ip] = got[i];
          });
        });
        return {
          stack_id: stackId,
          stack_name: current.stack_name,
          id_map: idMap,
          server_addresses: serverAddresses,
          floating_ip_addresses: floating,
          fixed_ips: fixedIps,
        };
      },
    }),
    builtin(
      CHECKS_ACTION,
      'Checks the recovered servers are ACTIVE and, in a drill, that restored volumes hash to the bank.',
      {
        async recover(ctx) {
          const c = ctx as RecoverContext & RecoveryContext;
          const stack = ctx.dependencies[STACK_STEP] as { id_map: Record<string, string> };
          const servers = (c.bank.manifest.template?.servers ?? {}) as Record<string, ManifestServer>;
          const newServers = Object.fromEntries(
            Object.keys(servers)
              .filter((id) => stack.id_map[id])
              .map((id) => [id, stack.id_map[id]]),
          );
          const checks = await serverChecks(c.backup, newServers, ctx as StepContext, deps.planConcurrency);
          if (c.recovery.drill) {
            const results = await stepResults(db, ctx.executionId);
            const volumes = Object.entries(results)
              .map(([name, r]) => ({ name, r: r as { volume_id?: string; data_sha256?: string } | null }))
              .filter((x) => x.r?.volume_id && x.r.data_sha256)
              .map((x) => ({
                resource_id: x.name.replace(/^volume-/, ''),
                new_id: x.r!.volume_id!,
                sha256: x.r!.data_sha256!,
              }));
            checks.push(...(await volumeChecks(c.backup, volumes, ctx as StepContext)));
          }
          const failed = checks.filter((x) => !x.ok);
          if (failed.length > 0)
            throw new Error(
              `recovery checks failed: ${failed.map((f) => `${f.check} ${f.resource_id} → ${f.new_id}: ${f.detail}`).join('; ')}`,
            );
          return { checks };
        },
      },
    ),
    builtin(
      TEARDOWN_ACTION,
      'Removes what a recovery created: its stack, restored volumes, imported images, key pairs.',
      {
        async delete(ctx) {
          const c = ctx as unknown as { backup: OpenSiteClients; recovery: RecoveryRow } & StepContext;
          const rec = (await db('recoveries').where({ id: c.recovery.id }).first()) as RecoveryRow;
          const torn = await teardownRecovery({
            site: c.backup,
            stack: rec.stack_id ? { name: rec.stack_name, id: rec.stack_id } : null,
            created: await createdBy(db, rec),
            log: ctx.log as Logger,
            signal: ctx.signal,
          });
          if (torn.failed.length > 0)
            throw new Error(
              `could not remove: ${torn.failed.map((f) => `${f.resource} (${f.error})`).join('; ')}`,
            );
          return { removed: torn.removed };
        },
      },
    ),
  ];

  return { kinds: { recover, recovery_delete: recoveryDelete }, builtins };
}

/** The recovery's trust goes with it; Dragon's service user removes it (Keystone lets an admin). */
async function removeTrust(conf: Config, trustId: string, log: Logger): Promise<void> {
  const user = serviceUserFromConf(conf.get(keystoneAuthtokenOpts));
  if (!user) return;
  const s = serviceUserSession(user);
  try {
    await deleteTrust({ authUrl: user.authUrl, token: await s.getToken(), trustId });
  } catch (err) {
    log.warn({ trust_id: trustId, err: (err as Error).message }, 'trust of the recovery not deleted');
  } finally {
    await s.close();
  }
}

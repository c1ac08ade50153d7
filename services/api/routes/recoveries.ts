/**
 * /v1/recoveries: bring a checkpoint back at a site (or plan it, or drill
 * it), list and show recoveries, cancel one, tear one down, and turn a
 * recovered workload into a policy that protects it back home (failback).
 * The checkpoint is found in the bank with the caller's own credentials:
 * no row of this Dragon's database is needed, so a Dragon with an empty
 * database at the backup site can recover what a lost primary protected.
 */
import { type Request, Router } from 'express';
import type { RequestContext } from '../../common/context.js';
import { DragonError } from '../../common/errors.js';
import { getLogger } from '../../common/log.js';
import { cancelExecution, getExecution } from '../../common/objects/executions.js';
import { createPolicy } from '../../common/objects/policies.js';
import {
  getRecovery,
  listRecoveries,
  RECOVERY_SORT_KEYS,
  type RecoverableResource,
  type RecoveryRow,
  startRecovery,
  startRecoveryDelete,
} from '../../common/objects/recoveries.js';
import type { SwiftClient } from '../../common/openstack/swift.js';
import {
  CheckpointIncompleteError,
  listCheckpointsInBank,
  type Manifest,
  META,
  metaKey,
  readManifest,
  swiftForAccount,
} from '../../engine/bank/index.js';
import { recoverableSteps, stepNameOf } from '../../engine/recover/plan.js';
import { accepted } from '../accepted.js';
import { authorizedObject, contextOf, listScope, targetFor } from '../context.js';
import { policyTrustHooks } from '../delegation.js';
import type { ApiDeps } from '../deps.js';
import { filters, listBody, pageRequest } from '../lists.js';
import { route } from '../routing.js';
import {
  type CreateRecoveryBody,
  createRecoverySchema,
  type FailbackBody,
  failbackSchema,
} from '../schemas/recoveries.js';
import { withCallerAtSite } from '../site-access.js';
import { baseUrl } from '../urls.js';
import { bodyValidator } from '../validation.js';
import { policyView, recoveryView } from '../views.js';

function authorizedRecovery(deps: ApiDeps, req: Request, rule: string): Promise<RecoveryRow> {
  return authorizedObject(deps.enforcer, req, rule, (id, scope) => getRecovery(deps.db, id, scope));
}

/** The bank as the caller reaches it at a site: their own account, or another one through its ACL. */
function bankSwift(
  clients: { swift: SwiftClient; session: Parameters<typeof swiftForAccount>[0] },
  account?: string,
) {
  return account ? swiftForAccount(clients.session, account) : clients.swift;
}

/**
 * The container of `checkpoint` (a container name, or a checkpoint id found
 * in this database or in the bank's container metadata) and its manifest.
 */
async function findCheckpoint(
  deps: ApiDeps,
  swift: SwiftClient,
  ctx: RequestContext,
  checkpoint: string,
  account: string | undefined,
): Promise<{ container: string; manifest: Manifest }> {
  let container: string | undefined;
  const known = await deps
    .db('checkpoints')
    .where({ id: /^[0-9a-f-]{36}$/i.test(checkpoint) ? checkpoint : null, project_id: ctx.projectId })
    .first('container');
  if (known?.container) container = known.container as string;
  if (!container && (await swift.containerInfo(checkpoint).catch(() => undefined))) container = checkpoint;
  if (!container) {
    const found = (
      await listCheckpointsInBank({ swift, projectId: account ? undefined : ctx.projectId })
    ).find((c) => c.checkpointId === checkpoint);
    container = found?.container;
  }
  if (!container) throw new DragonError(404, `Checkpoint ${checkpoint} could not be found in the bank.`);
  const info = await swift.containerInfo(container);
  const status = info?.metadata?.[metaKey(META.status)];
  if (status && status !== 'available')
    throw new DragonError(
      409,
      `Checkpoint ${container} is ${status}${info?.metadata?.[metaKey(META.statusReason)] ? ` (${info.metadata[metaKey(META.statusReason)]})` : ''}; only an available checkpoint can be recovered.`,
    );
  try {
    return { container, manifest: await readManifest(swift, container) };
  } catch (err) {
    if (err instanceof CheckpointIncompleteError)
      throw new DragonError(409, `${err.message}; it cannot be recovered.`);
    throw err;
  }
}

/** A Heat stack name from the policy's name: letters first, then [a-zA-Z0-9_.-]. */
function defaultStackName(policyName: string, drill: boolean, id: string): string {
  const base = policyName.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[^a-zA-Z]+/, '') || 'workload';
  return `${base.slice(0, 200)}-${drill ? 'drill' : 'recovered'}-${id.slice(0, 8)}`;
}

export function recoveryRoutes(deps: ApiDeps): Router {
  const router = Router();
  const validateCreate = bodyValidator<CreateRecoveryBody>(createRecoverySchema);
  const validateFailback = bodyValidator<FailbackBody>(failbackSchema);

  route(router, '/recoveries', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:recovery:list', targetFor(ctx.projectId), ctx);
      const { scope, projectFilter } = listScope(deps.enforcer, ctx, req.query);
      const page = pageRequest(req, RECOVERY_SORT_KEYS);
      const found = await listRecoveries(
        deps.db,
        scope,
        { ...filters(req, ['status', 'site'] as const), project_id: projectFilter },
        page,
      );
      res.json(listBody(req, 'recoveries', found, page.limit, recoveryView));
    },
    post: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:recovery:create', targetFor(ctx.projectId), ctx);
      const body = validateCreate(req.body ?? {}).recovery;
      if (!ctx.projectId) throw new DragonError(400, 'Recovering needs a project-scoped token.');
      if (body.dry_run && body.drill) throw new DragonError(400, 'dry_run and drill exclude each other.');
      const bankSite = body.bank_site ?? body.site;
      const { container, manifest } = await withCallerAtSite(
        deps,
        req,
        ctx,
        bankSite,
        'Reading the checkpoint from the bank',
        (clients) =>
          findCheckpoint(
            deps,
            bankSwift(clients, body.bank_account),
            ctx,
            body.checkpoint,
            body.bank_account,
          ),
      );
      // The target site must be known too (404 before a trust is made for nothing).
      await withCallerAtSite(deps, req, ctx, body.site, 'Recovering', async () => undefined);
      const resources: RecoverableResource[] = recoverableSteps(manifest).map((r) => ({
        step: stepNameOf(r),
        resource_id: r.resource_id,
        resource_type: r.resource_type,
        action: r.action,
        options: r.options,
        resource_name: r.resource_name ?? null,
      }));
      const hooks = policyTrustHooks(deps.conf, req, ctx);
      const trustId = hooks.createTrust ? ((await hooks.createTrust()) ?? null) : null;
      try {
        const pending = crypto.randomUUID();
        const { recovery, executionId } = await startRecovery(deps.db, {
          ctx,
          projectId: ctx.projectId,
          checkpointId: manifest.checkpoint_id,
          container,
          bankAccount: body.bank_account ?? null,
          bankSite,
          site: body.site,
          policyName: manifest.policy?.name ?? null,
          stackName:
            body.stack_name ??
            defaultStackName(manifest.policy?.name ?? 'workload', body.drill ?? false, pending),
          dryRun: body.dry_run ?? false,
          drill: body.drill ?? false,
          onFailure: body.on_failure ?? 'rollback',
          mapping: body.mapping ?? {},
          trustId,
          resources,
        });
        await accepted(deps, req, res, executionId, { recovery: recoveryView(recovery) });
      } catch (err) {
        if (trustId && hooks.deleteTrust) await hooks.deleteTrust(trustId, ctx.userId).catch(() => {});
        throw err;
      }
    },
  });

  route(router, '/recoveries/:id', {
    get: async (req, res) => {
      res.json({ recovery: recoveryView(await authorizedRecovery(deps, req, 'dragon:recovery:get')) });
    },
    delete: async (req, res) => {
      const recovery = await authorizedRecovery(deps, req, 'dragon:recovery:delete');
      const executionId = await startRecoveryDelete(deps.db, recovery, contextOf(req));
      await accepted(deps, req, res, executionId, {});
    },
  });

  route(router, '/recoveries/:id/cancel', {
    post: async (req, res) => {
      const recovery = await authorizedRecovery(deps, req, 'dragon:recovery:cancel');
      const ctx = contextOf(req);
      if (!recovery.execution_id)
        throw new DragonError(409, `Recovery ${recovery.id} has no execution to cancel.`);
      const execution = await getExecution(deps.db, recovery.execution_id, recovery.project_id);
      const log = getLogger('dragon-api.recoveries', { request_id: ctx.requestId });
      const updated = await cancelExecution(deps.db, deps.transport, execution, ctx, log);
      // Cancelled before an engine took it: nothing was created, and no engine will say so.
      if (updated.status === 'cancelled')
        await deps.db('recoveries').where({ id: recovery.id }).update({
          status: 'cancelled',
          error: 'cancelled',
          updated_at: new Date(),
          finished_at: new Date(),
        });
      res.status(202).json({ recovery: recoveryView(await getRecovery(deps.db, recovery.id, null)) });
    },
  });

  route(router, '/recoveries/:id/failback-policy', {
    post: async (req, res) => {
      const recovery = await authorizedRecovery(deps, req, 'dragon:recovery:failback_policy');
      const ctx = contextOf(req);
      const body = validateFailback(req.body ?? {}).policy ?? {};
      if (recovery.status !== 'available' || recovery.drill)
        throw new DragonError(
          409,
          `Recovery ${recovery.id} is ${recovery.drill ? 'a drill' : recovery.status}; only a completed recovery can fail back.`,
        );
      const plan = (recovery.plan ?? {}) as {
        steps?: Array<{
          action: string;
          resource_id: string;
          resource_type: string;
          resource_name?: string | null;
          options?: Record<string, unknown>;
        }>;
      };
      const idMap = ((recovery.result ?? {}) as { id_map?: Record<string, string> }).id_map ?? {};
      const manifestResources = plan.steps ?? [];
      // The original site: the bank's site unless told otherwise.
      const backupSite = body.backup_site ?? recovery.bank_site;
      if (backupSite === recovery.site && !body.backup_site)
        throw new DragonError(
          400,
          `The checkpoint's bank is at ${recovery.site}, where the workload now runs: name the site to fail back to (policy.backup_site).`,
        );
      const policy = await createPolicy(
        deps.db,
        {
          projectId: recovery.project_id,
          userId: ctx.userId,
          name: body.name ?? `${recovery.policy_name ?? 'workload'}-failback-${recovery.id.slice(0, 8)}`,
          description:
            body.description ?? `Protects the workload recovered by ${recovery.id} back to ${backupSite}.`,
          primary_site: recovery.site,
          backup_site: backupSite,
        },
        policyTrustHooks(deps.conf, req, ctx),
      );
      const now = new Date();
      const rows = manifestResources
        .map((r) => ({ r, newId: idMap[r.resource_id] }))
        .filter((x) => x.newId)
        .map(({ r, newId }) => ({
          id: crypto.randomUUID(),
          policy_id: policy.id,
          project_id: policy.project_id,
          resource_id: newId,
          resource_type: r.resource_type,
          resource_name: r.resource_name ?? null,
          action: r.action,
          options: JSON.stringify(r.options ?? {}),
          required: true,
          created_at: now,
          updated_at: now,
        }));
      if (rows.length > 0) await deps.db('policy_resources').insert(rows);
      res
        .status(201)
        .location(`${baseUrl(req)}/v1/policies/${policy.id}`)
        .json({ policy: policyView(policy), resources: rows.length });
    },
  });

  return router;
}

/** POST /v1/policies/{id}/protect and /v1/checkpoints: start work, answer 202 with the execution. */
import { type Request, type Response, Router } from 'express';
import { DragonError } from '../../common/errors.js';
import {
  CHECKPOINT_SORT_KEYS,
  type CheckpointRow,
  getCheckpoint,
  listCheckpoints,
  startDelete,
  startProtect,
  startVerify,
} from '../../common/objects/checkpoints.js';
import { listCheckpointsInBank, swiftForAccount } from '../../engine/bank/index.js';
import { accepted } from '../accepted.js';
import { authorizedObject, contextOf, listScope, singleParam, targetFor } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { filters, listBody, pageRequest } from '../lists.js';
import { route } from '../routing.js';
import { type ProtectBody, protectSchema } from '../schemas/checkpoints.js';
import { withCallerAtSite } from '../site-access.js';
import { bodyValidator } from '../validation.js';
import { bankCheckpointView, checkpointView } from '../views.js';
import { authorizedPolicy } from './policies.js';

function authorizedCheckpoint(deps: ApiDeps, req: Request, rule: string): Promise<CheckpointRow> {
  return authorizedObject(deps.enforcer, req, rule, (id, scope) => getCheckpoint(deps.db, id, scope));
}

/**
 * GET /v1/checkpoints?source=bank&site=S[&bank_account=P]: what the bank at
 * a site holds for the caller's project (or in account P, read through its
 * ACL), with no database row needed — how recovery finds its checkpoints
 * when the Dragon that made them is gone. Not paginated: a bank is listed
 * whole (it is read container by container).
 */
async function listFromBank(deps: ApiDeps, req: Request, res: Response): Promise<void> {
  const ctx = contextOf(req);
  deps.enforcer.authorize('dragon:checkpoint:list_bank', targetFor(ctx.projectId), ctx);
  const site = singleParam(req.query.site, 'site');
  if (!site) throw new DragonError(400, 'Listing checkpoints from the bank needs site=<site name>.');
  const account = singleParam(req.query.bank_account, 'bank_account');
  if (account !== undefined && !/^[A-Za-z0-9_-]+$/.test(account))
    throw new DragonError(400, 'bank_account must be a project id or AUTH_<project id>.');
  const found = await withCallerAtSite(deps, req, ctx, site, 'Listing checkpoints from the bank', (clients) =>
    listCheckpointsInBank({
      swift: account ? swiftForAccount(clients.session, account) : clients.swift,
      projectId: account ? undefined : (ctx.projectId ?? undefined),
    }),
  );
  const policyName = singleParam(req.query.policy_name, 'policy_name');
  res.json({
    checkpoints: found
      .filter((c) => !policyName || c.policy.name === policyName)
      .reverse() // newest first, like the database listing's default
      .map((c) => bankCheckpointView(c, site)),
  });
}

export function checkpointRoutes(deps: ApiDeps): Router {
  const router = Router();
  const validateProtect = bodyValidator<ProtectBody>(protectSchema);

  route(router, '/policies/:id/protect', {
    post: async (req, res) => {
      const policy = await authorizedPolicy(deps, req, 'dragon:policy:protect');
      const body = validateProtect(req.body ?? {});
      const { checkpoint, executionId } = await startProtect(deps.db, {
        policy,
        ctx: contextOf(req),
        consistency: body.protect?.consistency,
      });
      await accepted(deps, req, res, executionId, { checkpoint: checkpointView(checkpoint) });
    },
  });

  route(router, '/checkpoints', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      const source = singleParam(req.query.source, 'source') ?? 'database';
      if (source === 'bank') return listFromBank(deps, req, res);
      if (source !== 'database')
        throw new DragonError(400, `Unknown source ${source}; use database or bank.`);
      deps.enforcer.authorize('dragon:checkpoint:list', targetFor(ctx.projectId), ctx);
      const { scope, projectFilter } = listScope(deps.enforcer, ctx, req.query);
      const page = pageRequest(req, CHECKPOINT_SORT_KEYS);
      const found = await listCheckpoints(
        deps.db,
        scope,
        { ...filters(req, ['policy_id', 'status'] as const), project_id: projectFilter },
        page,
      );
      res.json(listBody(req, 'checkpoints', found, page.limit, checkpointView));
    },
  });

  route(router, '/checkpoints/:id', {
    get: async (req, res) => {
      res.json({
        checkpoint: checkpointView(await authorizedCheckpoint(deps, req, 'dragon:checkpoint:get')),
      });
    },
    delete: async (req, res) => {
      const checkpoint = await authorizedCheckpoint(deps, req, 'dragon:checkpoint:delete');
      const executionId = await startDelete(deps.db, checkpoint, contextOf(req));
      await accepted(deps, req, res, executionId, {});
    },
  });

  route(router, '/checkpoints/:id/verify', {
    post: async (req, res) => {
      const checkpoint = await authorizedCheckpoint(deps, req, 'dragon:checkpoint:verify');
      const executionId = await startVerify(deps.db, checkpoint, contextOf(req));
      await accepted(deps, req, res, executionId, {});
    },
  });

  return router;
}

/** POST /v1/policies/{id}/protect and /v1/checkpoints: start work, answer 202 with the execution. */
import { type Request, type Response, Router } from 'express';
import {
  CHECKPOINT_SORT_KEYS,
  type CheckpointRow,
  getCheckpoint,
  listCheckpoints,
  startDelete,
  startProtect,
  startVerify,
} from '../../common/objects/checkpoints.js';
import { announceExecution } from '../../engine/service.js';
import { authorizedObject, contextOf, listScope, targetFor } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { filters, listBody, pageRequest } from '../lists.js';
import { route } from '../routing.js';
import { type ProtectBody, protectSchema } from '../schemas/checkpoints.js';
import { baseUrl } from '../urls.js';
import { bodyValidator } from '../validation.js';
import { checkpointView } from '../views.js';
import { authorizedPolicy } from './policies.js';

function authorizedCheckpoint(deps: ApiDeps, req: Request, rule: string): Promise<CheckpointRow> {
  return authorizedObject(deps.enforcer, req, rule, (id, scope) => getCheckpoint(deps.db, id, scope));
}

/** Long work: announce the execution (a lost announcement is found by the engines' sweep) and answer 202. */
async function accepted(
  deps: ApiDeps,
  req: Request,
  res: Response,
  executionId: string,
  body: Record<string, unknown>,
) {
  await announceExecution(deps.transport, executionId, contextOf(req).requestId);
  res
    .status(202)
    .location(`${baseUrl(req)}/v1/executions/${executionId}`)
    .json({ ...body, execution_id: executionId });
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

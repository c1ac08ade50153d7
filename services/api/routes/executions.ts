/** /v1/executions: read executions and ask for one to be cancelled. */
import { type Request, Router } from 'express';
import { getLogger } from '../../common/log.js';
import {
  cancelExecution,
  EXECUTION_SORT_KEYS,
  type ExecutionRow,
  getExecution,
  getExecutionSteps,
  listExecutions,
} from '../../common/objects/executions.js';
import { authorizedObject, contextOf, listScope, targetFor } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { filters, listBody, pageRequest } from '../lists.js';
import { route } from '../routing.js';
import { baseUrl } from '../urls.js';
import { executionView, stepView } from '../views.js';

function authorizedExecution(deps: ApiDeps, req: Request, rule: string): Promise<ExecutionRow> {
  return authorizedObject(deps.enforcer, req, rule, (id, scope) => getExecution(deps.db, id, scope));
}

export function executionRoutes(deps: ApiDeps): Router {
  const router = Router();

  route(router, '/executions', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:execution:list', targetFor(ctx.projectId), ctx);
      const { scope, projectFilter } = listScope(deps.enforcer, ctx, req.query);
      const page = pageRequest(req, EXECUTION_SORT_KEYS);
      const found = await listExecutions(
        deps.db,
        scope,
        { ...filters(req, ['status', 'kind', 'policy_id'] as const), project_id: projectFilter },
        page,
      );
      res.json(listBody(req, 'executions', found, page.limit, executionView));
    },
  });

  route(router, '/executions/:id', {
    get: async (req, res) => {
      const execution = await authorizedExecution(deps, req, 'dragon:execution:get');
      const steps = await getExecutionSteps(deps.db, execution);
      res.json({ execution: { ...executionView(execution), steps: steps.map(stepView) } });
    },
  });

  route(router, '/executions/:id/cancel', {
    post: async (req, res) => {
      const execution = await authorizedExecution(deps, req, 'dragon:execution:cancel');
      const ctx = contextOf(req);
      const log = getLogger('dragon-api', { request_id: res.locals.requestId });
      const updated = await cancelExecution(deps.db, deps.transport, execution, ctx, log);
      res
        .status(202)
        .location(`${baseUrl(req)}/v1/executions/${updated.id}`)
        .json({ execution: executionView(updated) });
    },
  });

  return router;
}

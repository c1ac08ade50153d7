/** /v1/actions: the protection plugins the running engines offer. */
import { Router } from 'express';
import { engineOpts } from '../../common/config/index.js';
import { getAction, listActions } from '../../common/objects/actions.js';
import { contextOf, targetFor } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { filters } from '../lists.js';
import { route } from '../routing.js';
import { actionView } from '../views.js';

export function actionRoutes(deps: ApiDeps): Router {
  const router = Router();
  const heartbeat = () => deps.conf.get(engineOpts).heartbeat_interval;

  route(router, '/actions', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:action:list', targetFor(ctx.projectId), ctx);
      const actions = await listActions(deps.db, heartbeat(), filters(req, ['resource_type'] as const));
      res.json({ actions: actions.map(actionView) });
    },
  });

  route(router, '/actions/:name', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:action:get', targetFor(ctx.projectId), ctx);
      res.json({ action: actionView(await getAction(deps.db, String(req.params.name), heartbeat())) });
    },
  });

  return router;
}

/** /v1/services: the Dragon processes and whether they are alive (admin only by default). */
import { Router } from 'express';
import { engineOpts } from '../../common/config/index.js';
import { listServices } from '../../common/objects/services.js';
import { contextOf, targetFor } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { filters } from '../lists.js';
import { route } from '../routing.js';
import { serviceView } from '../views.js';

export function serviceRoutes(deps: ApiDeps): Router {
  const router = Router();

  route(router, '/services', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:service:list', targetFor(ctx.projectId), ctx);
      const rows = await listServices(deps.db, filters(req, ['binary', 'host'] as const));
      const interval = deps.conf.get(engineOpts).heartbeat_interval;
      const now = new Date();
      res.json({ services: rows.map((s) => serviceView(s, interval, now)) });
    },
  });

  return router;
}

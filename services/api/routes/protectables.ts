/**
 * GET /v1/protectables?site=&type=: the caller's servers and volumes at a
 * site, with their dependencies. The one API call that talks to a cloud
 * inside the request: at a site of the operator's cloud with the caller's
 * own token (so it sees exactly what the caller may see), at a tenant site
 * with that site's application credential.
 */
import { Router } from 'express';
import { DragonError } from '../../common/errors.js';
import {
  listProtectables,
  PROTECTABLE_TYPES,
  type ProtectableType,
} from '../../common/sites/protectables.js';
import { defaultPrimarySite } from '../../common/sites/registry.js';
import { contextOf, singleParam, targetFor } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { route } from '../routing.js';
import { withCallerAtSite } from '../site-access.js';

function typesOf(value: string | undefined): ProtectableType[] {
  if (value === undefined) return [...PROTECTABLE_TYPES];
  const types = value.split(',').map((t) => t.trim());
  for (const t of types)
    if (!(PROTECTABLE_TYPES as readonly string[]).includes(t))
      throw new DragonError(400, `Unknown type ${t}; use one of ${PROTECTABLE_TYPES.join(', ')}.`);
  return types as ProtectableType[];
}

export function protectableRoutes(deps: ApiDeps): Router {
  const router = Router();
  route(router, '/protectables', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:protectable:list', targetFor(ctx.projectId), ctx);
      if (!ctx.projectId) throw new DragonError(400, 'Listing protectables needs a project-scoped token.');
      const types = typesOf(singleParam(req.query.type, 'type'));
      const siteName = singleParam(req.query.site, 'site') ?? defaultPrimarySite(deps.conf);
      if (!siteName)
        throw new DragonError(400, 'Name a site (site=); no default primary site is configured.');
      const items = await withCallerAtSite(deps, req, ctx, siteName, 'Listing protectables', (clients) =>
        listProtectables({ nova: clients.nova, cinder: clients.cinder, neutron: clients.neutron }, types),
      );
      res.json({ site: siteName, protectables: items });
    },
  });
  return router;
}

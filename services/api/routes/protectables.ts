/**
 * GET /v1/protectables?site=&type=: the caller's servers and volumes at a
 * site, with their dependencies. The one API call that talks to a cloud
 * inside the request: at a site of the operator's cloud with the caller's
 * own token (so it sees exactly what the caller may see), at a tenant site
 * with that site's application credential.
 */
import { Router } from 'express';
import { DragonError } from '../../common/errors.js';
import { getLogger } from '../../common/log.js';
import { CinderClient } from '../../common/openstack/cinder.js';
import { AuthenticationError, OpenStackError, OpenStackHttpError } from '../../common/openstack/errors.js';
import { NeutronClient } from '../../common/openstack/neutron.js';
import { NovaClient } from '../../common/openstack/nova.js';
import {
  listProtectables,
  PROTECTABLE_TYPES,
  type ProtectableType,
} from '../../common/sites/protectables.js';
import { defaultPrimarySite } from '../../common/sites/registry.js';
import { resolveSite, siteInterface, siteRegion, siteSession } from '../../common/sites/sessions.js';
import { contextOf, singleParam, targetFor } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { route } from '../routing.js';

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
      const site = await resolveSite(deps.conf, deps.db, ctx.projectId, siteName);
      const log = getLogger('dragon-api.protectables', { request_id: ctx.requestId });
      const token = req.get('X-Auth-Token');
      if (site.kind === 'operator' && !token)
        throw new DragonError(400, 'Listing protectables at this site needs a Keystone token.');
      const session = await siteSession(
        deps.conf,
        deps.db,
        site,
        { userToken: token ?? '', projectId: ctx.projectId },
        { logger: log, globalRequestId: ctx.requestId },
      );
      const endpoint = { region: siteRegion(site), interface: siteInterface(site) };
      try {
        const items = await listProtectables(
          {
            nova: new NovaClient(session, endpoint),
            cinder: new CinderClient(session, endpoint),
            neutron: new NeutronClient(session, endpoint),
          },
          types,
        );
        res.json({ site: site.name, protectables: items });
      } catch (err) {
        if (err instanceof AuthenticationError)
          throw new DragonError(502, `Site ${site.name} refused the credentials: ${err.message}`);
        if (err instanceof OpenStackHttpError || err instanceof OpenStackError)
          throw new DragonError(502, `Site ${site.name} could not list resources: ${err.message}`);
        throw err;
      } finally {
        await session.close();
      }
    },
  });
  return router;
}

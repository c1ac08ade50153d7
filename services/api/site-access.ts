/**
 * A site's clients for one API request: at a site of the operator's cloud
 * with the caller's own token (so the caller sees exactly what they may
 * see), at a tenant site with that site's application credential. Cloud
 * errors become the API's 502, never a 500.
 */
import type { Request } from 'express';
import type { RequestContext } from '../common/context.js';
import { DragonError } from '../common/errors.js';
import { getLogger } from '../common/log.js';
import { AuthenticationError, OpenStackError, OpenStackHttpError } from '../common/openstack/errors.js';
import { resolveSite, type Site, siteSession } from '../common/sites/sessions.js';
import { clientsOf, type OpenSiteClients } from '../engine/sites.js';
import type { ApiDeps } from './deps.js';

export async function withCallerAtSite<T>(
  deps: ApiDeps,
  req: Request,
  ctx: RequestContext,
  siteName: string,
  what: string,
  fn: (clients: OpenSiteClients, site: Site) => Promise<T>,
): Promise<T> {
  if (!ctx.projectId) throw new DragonError(400, `${what} needs a project-scoped token.`);
  const site = await resolveSite(deps.conf, deps.db, ctx.projectId, siteName);
  const token = req.get('X-Auth-Token');
  if (site.kind === 'operator' && !token)
    throw new DragonError(400, `${what} at site ${site.name} needs a Keystone token.`);
  const log = getLogger('dragon-api.sites', { request_id: ctx.requestId });
  const session = await siteSession(
    deps.conf,
    deps.db,
    site,
    { userToken: token ?? '', projectId: ctx.projectId },
    { logger: log, globalRequestId: ctx.requestId },
  );
  try {
    return await fn(clientsOf(site, session, ctx.projectId), site);
  } catch (err) {
    if (err instanceof AuthenticationError)
      throw new DragonError(502, `Site ${site.name} refused the credentials: ${err.message}`);
    if (err instanceof OpenStackHttpError || err instanceof OpenStackError)
      throw new DragonError(502, `Site ${site.name} could not answer (${what}): ${err.message}`);
    throw err;
  } finally {
    await session.close();
  }
}

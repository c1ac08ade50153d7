/**
 * The engine's view of a site: the six OpenStack clients of one site, acting
 * for the tenant (the policy's trust at a site of the operator's cloud, the
 * registered application credential at a tenant's site in another cloud).
 */
import type { Knex } from 'knex';
import type { Config } from '../common/config/load.js';
import { DragonError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { CinderClient } from '../common/openstack/cinder.js';
import { GlanceClient } from '../common/openstack/glance.js';
import { HeatClient } from '../common/openstack/heat.js';
import { NeutronClient } from '../common/openstack/neutron.js';
import { NovaClient } from '../common/openstack/nova.js';
import type { KeystoneSession } from '../common/openstack/session.js';
import { SwiftClient } from '../common/openstack/swift.js';
import { resolveSite, type Site, siteInterface, siteRegion, siteSession } from '../common/sites/sessions.js';
import type { SiteClients } from './plugin-api.js';

export interface SiteClientsRequest {
  conf: Config;
  db: Knex;
  siteName: string;
  projectId: string;
  /** The policy's trust; needed at a site of the operator's cloud. */
  trustId?: string | null;
  logger?: Logger;
  globalRequestId?: string;
}

/** SiteClients plus the session under them, to close when the execution ends. */
export interface OpenSiteClients extends SiteClients {
  session: KeystoneSession;
  close(): Promise<void>;
}

/** The six clients of one session at `site`, all pointed at its region and interface. */
export function clientsOf(site: Site, session: KeystoneSession, projectId: string): OpenSiteClients {
  const region = siteRegion(site);
  const endpoint = { region, interface: siteInterface(site) };
  return {
    name: site.name,
    region: region ?? '',
    projectId,
    nova: new NovaClient(session, endpoint),
    cinder: new CinderClient(session, endpoint),
    glance: new GlanceClient(session, endpoint),
    neutron: new NeutronClient(session, endpoint),
    heat: new HeatClient(session, endpoint),
    swift: new SwiftClient(session, endpoint),
    session,
    close: () => session.close(),
  };
}

export async function siteClientsFor(r: SiteClientsRequest): Promise<OpenSiteClients> {
  const site = await resolveSite(r.conf, r.db, r.projectId, r.siteName);
  if (site.kind === 'operator' && !r.trustId)
    throw new DragonError(
      409,
      `The policy has no trust, so Dragon cannot act for its project at site ${site.name} ` +
        '(was it created without Keystone?).',
    );
  const actingAs = site.kind === 'operator' && r.trustId ? { trustId: r.trustId } : undefined;
  const session = await siteSession(r.conf, r.db, site, actingAs, {
    logger: r.logger,
    globalRequestId: r.globalRequestId,
  });
  // A tenant site's project is the application credential's; known once authenticated.
  const projectId = site.kind === 'operator' ? r.projectId : ((await session.authenticate()).projectId ?? '');
  return clientsOf(site, session, projectId);
}

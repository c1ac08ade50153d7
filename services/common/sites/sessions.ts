/**
 * Finding a site by name for a project and opening a Keystone session at it
 * with the right credentials: at a site of the operator's cloud the service
 * user under the policy's trust (or, inside an API request, the caller's own
 * token); at a tenant's site in another cloud, that site's application credential.
 */
import type { Knex } from 'knex';
import { keystoneAuthtokenOpts } from '../../api/auth/opts.js';
import type { Config } from '../config/load.js';
import { DragonError } from '../errors.js';
import type { Logger } from '../log.js';
import { findTenantSite, type SiteRow, tenantSiteSecret } from '../objects/sites.js';
import type { EndpointInterface } from '../openstack/catalog.js';
import { KeystoneSession } from '../openstack/session.js';
import { serviceUserFromConf, trustSession } from '../openstack/trusts.js';
import { sitesOpts } from './opts.js';
import { type OperatorSite, operatorSite } from './registry.js';
import { decryptSecret, siteSecretKey } from './secrets.js';

export interface TenantSite {
  kind: 'tenant';
  name: string;
  row: SiteRow;
}

export type Site = OperatorSite | TenantSite;

/** The site `name` as `projectId` sees it: a configured one first, then the project's own. 404 otherwise. */
export async function resolveSite(conf: Config, db: Knex, projectId: string, name: string): Promise<Site> {
  const op = operatorSite(conf, name);
  if (op) return op;
  const row = await findTenantSite(db, projectId, name);
  if (row) return { kind: 'tenant', name, row };
  throw new DragonError(404, `Site ${name} could not be found.`);
}

export function siteRegion(site: Site): string | undefined {
  return site.kind === 'operator' ? site.regionName : (site.row.region_name ?? undefined);
}

export function siteInterface(site: Site): EndpointInterface {
  return site.kind === 'operator' ? site.interface : (site.row.interface as EndpointInterface);
}

/**
 * How to act at an operator site: the policy's trust (engine), or the caller's token (one API call).
 * A tenant site always uses its own application credential.
 */
export type ActingAs = { trustId: string } | { userToken: string; projectId: string };

export interface SiteSessionOptions {
  logger?: Logger;
  globalRequestId?: string;
}

export async function siteSession(
  conf: Config,
  db: Knex,
  site: Site,
  actingAs: ActingAs | undefined,
  o: SiteSessionOptions = {},
): Promise<KeystoneSession> {
  if (site.kind === 'tenant') {
    const key = siteSecretKey(conf.get(sitesOpts).secret_key);
    const secret = decryptSecret(key, await tenantSiteSecret(db, site.row.id));
    return new KeystoneSession({
      authUrl: site.row.auth_url,
      auth: { type: 'application_credential', id: site.row.application_credential_id, secret },
      regionName: site.row.region_name ?? undefined,
      interface: site.row.interface as EndpointInterface,
      logger: o.logger,
      globalRequestId: o.globalRequestId,
    });
  }
  if (!actingAs)
    throw new DragonError(409, `Dragon has no way to act for the project at site ${site.name} (no trust).`);
  const authtoken = conf.get(keystoneAuthtokenOpts);
  if ('trustId' in actingAs) {
    const serviceUser = serviceUserFromConf(authtoken);
    if (!serviceUser)
      throw new DragonError(
        503,
        `Site ${site.name} needs Keystone: [keystone_authtoken] auth_url is not set.`,
      );
    return trustSession({
      serviceUser,
      trustId: actingAs.trustId,
      regionName: site.regionName,
      interface: site.interface,
      endpointOverrides: site.endpointOverrides,
      logger: o.logger,
      globalRequestId: o.globalRequestId,
    });
  }
  if (!site.authUrl)
    throw new DragonError(503, `Site ${site.name} needs Keystone: [keystone_authtoken] auth_url is not set.`);
  return new KeystoneSession({
    authUrl: site.authUrl,
    auth: { type: 'token', token: actingAs.userToken },
    scope: { projectId: actingAs.projectId },
    regionName: site.regionName,
    interface: site.interface,
    endpointOverrides: site.endpointOverrides,
    cafile: authtoken.cafile || undefined,
    insecure: authtoken.insecure,
    logger: o.logger,
    globalRequestId: o.globalRequestId,
  });
}

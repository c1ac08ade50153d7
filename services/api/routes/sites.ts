/**
 * /v1/sites: the sites of the operator's cloud (from the config, `kind:
 * operator`) and the project's sites in other clouds (`kind: tenant`,
 * registered with an application credential whose secret is encrypted at
 * rest, never returned and never logged).
 */
import { Router } from 'express';
import { DragonError } from '../../common/errors.js';
import { getLogger } from '../../common/log.js';
import {
  createTenantSite,
  deleteTenantSite,
  findTenantSite,
  listTenantSites,
  type SiteRow,
} from '../../common/objects/sites.js';
import { AuthenticationError, OpenStackError } from '../../common/openstack/errors.js';
import { KeystoneSession } from '../../common/openstack/session.js';
import { sitesOpts } from '../../common/sites/opts.js';
import { type OperatorSite, operatorSite, operatorSites } from '../../common/sites/registry.js';
import { encryptSecret, siteSecretKey } from '../../common/sites/secrets.js';
import { contextOf, targetFor } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { route } from '../routing.js';
import { type CreateSiteBody, createSiteSchema } from '../schemas/sites.js';
import { baseUrl } from '../urls.js';
import { bodyValidator } from '../validation.js';
import { isoTime } from '../views.js';

export function operatorSiteView(s: OperatorSite) {
  return {
    name: s.name,
    kind: 'operator',
    region_name: s.regionName,
    interface: s.interface,
    description: s.description,
  };
}

/** No secret here: the row type has none, and the view names only the credential's id. */
export function tenantSiteView(s: SiteRow) {
  return {
    name: s.name,
    kind: 'tenant',
    id: s.id,
    project_id: s.project_id,
    auth_url: s.auth_url,
    region_name: s.region_name,
    interface: s.interface,
    application_credential_id: s.application_credential_id,
    created_at: isoTime(s.created_at),
    updated_at: isoTime(s.updated_at),
  };
}

function projectOf(ctx: { projectId?: string }): string {
  if (!ctx.projectId) throw new DragonError(400, 'Sites need a project-scoped token.');
  return ctx.projectId;
}

/** Authenticates once with the credential: a refused one is the caller's mistake (400), not stored. */
async function checkCredential(body: CreateSiteBody['site']): Promise<string | undefined> {
  const s = new KeystoneSession({
    authUrl: body.auth_url,
    auth: {
      type: 'application_credential',
      id: body.application_credential_id,
      secret: body.application_credential_secret,
    },
    regionName: body.region_name ?? undefined,
    interface: body.interface ?? 'public',
    retries: 1,
    timeoutMs: 15_000,
  });
  try {
    const access = await s.authenticate();
    if (
      body.region_name &&
      !access.catalog.entries.some((e) =>
        e.endpoints.some((ep) => ep.region === body.region_name || ep.region_id === body.region_name),
      )
    )
      throw new DragonError(400, `Region ${body.region_name} is not in the catalog of ${body.auth_url}.`);
    return access.projectId;
  } catch (err) {
    if (err instanceof AuthenticationError)
      throw new DragonError(400, `The application credential was refused by ${body.auth_url}.`);
    if (err instanceof OpenStackError)
      throw new DragonError(400, `Keystone at ${body.auth_url} could not be used: ${err.message}`);
    throw err;
  } finally {
    await s.close();
  }
}

export function siteRoutes(deps: ApiDeps): Router {
  const router = Router();
  const validateCreate = bodyValidator<CreateSiteBody>(createSiteSchema);

  route(router, '/sites', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:site:list', targetFor(ctx.projectId), ctx);
      const mine = await listTenantSites(deps.db, projectOf(ctx));
      res.json({ sites: [...operatorSites(deps.conf).map(operatorSiteView), ...mine.map(tenantSiteView)] });
    },
    post: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:site:create', targetFor(ctx.projectId), ctx);
      const { site: body } = validateCreate(req.body);
      const projectId = projectOf(ctx);
      if (operatorSite(deps.conf, body.name))
        throw new DragonError(409, `"${body.name}" is a site of this cloud; choose another name.`);
      if (await findTenantSite(deps.db, projectId, body.name))
        throw new DragonError(409, `A site named "${body.name}" already exists in this project.`);
      const key = siteSecretKey(deps.conf.get(sitesOpts).secret_key);
      await checkCredential(body);
      const row = await createTenantSite(deps.db, {
        projectId,
        name: body.name,
        authUrl: body.auth_url,
        regionName: body.region_name ?? null,
        interface: body.interface ?? 'public',
        applicationCredentialId: body.application_credential_id,
        secretEnc: encryptSecret(key, body.application_credential_secret),
      });
      getLogger('dragon-api.sites', { request_id: ctx.requestId }).info(
        { site: row.name, auth_url: row.auth_url, application_credential_id: row.application_credential_id },
        'tenant site registered',
      );
      res
        .status(201)
        .location(`${baseUrl(req)}/v1/sites/${encodeURIComponent(row.name)}`)
        .json({ site: tenantSiteView(row) });
    },
  });

  route(router, '/sites/:name', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:site:get', targetFor(ctx.projectId), ctx);
      const name = String(req.params.name);
      const op = operatorSite(deps.conf, name);
      if (op) return void res.json({ site: operatorSiteView(op) });
      const row = await findTenantSite(deps.db, projectOf(ctx), name);
      if (!row) throw new DragonError(404, `Site ${name} could not be found.`);
      res.json({ site: tenantSiteView(row) });
    },
    delete: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:site:delete', targetFor(ctx.projectId), ctx);
      const name = String(req.params.name);
      if (operatorSite(deps.conf, name))
        throw new DragonError(
          403,
          `Site ${name} is a site of this cloud; only the operator's config changes it.`,
        );
      await deleteTenantSite(deps.db, projectOf(ctx), name);
      res.status(204).end();
    },
  });

  return router;
}

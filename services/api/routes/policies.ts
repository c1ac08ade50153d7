/** /v1/policies: validate, check the named rule, call one domain function, serialise. */
import { type Request, Router } from 'express';
import { apiOpts } from '../../common/config/index.js';
import { DragonError } from '../../common/errors.js';
import {
  createPolicy,
  deletePolicy,
  getPolicy,
  listPolicies,
  POLICY_SORT_KEYS,
  type PolicyRow,
  policyListVersion,
  updatePolicy,
} from '../../common/objects/policies.js';
import { authorizedObject, contextOf, listScope, targetFor } from '../context.js';
import { policyTrustHooks } from '../delegation.js';
import type { ApiDeps } from '../deps.js';
import { ListCache, listCacheKey, sendJsonBytes } from '../list-cache.js';
import { filters, listBody, pageRequest } from '../lists.js';
import { route } from '../routing.js';
import {
  type CreatePolicyBody,
  createPolicySchema,
  type UpdatePolicyBody,
  updatePolicySchema,
} from '../schemas/policies.js';
import { TickBatch } from '../tick-batch.js';
import { baseUrl } from '../urls.js';
import { bodyValidator } from '../validation.js';
import { policyView } from '../views.js';

/**
 * Loads the policy named in the path as the caller may see it, then checks
 * `rule` against its project: another project's policy is 404, a denied
 * action on one's own is 403. Resource routes share it.
 */
export function authorizedPolicy(deps: ApiDeps, req: Request, rule: string): Promise<PolicyRow> {
  return authorizedObject(deps.enforcer, req, rule, (id, scope) => getPolicy(deps.db, id, scope));
}

export function policyRoutes(deps: ApiDeps): Router {
  const router = Router();
  const validateCreate = bodyValidator<CreatePolicyBody>(createPolicySchema);
  const validateUpdate = bodyValidator<UpdatePolicyBody>(updatePolicySchema);
  const listCache = new ListCache(deps.conf.get(apiOpts).list_cache_mib * 1024 * 1024);
  const listVersion = new TickBatch((project: string) => policyListVersion(deps.db, project));

  route(router, '/policies', {
    get: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:policy:list', targetFor(ctx.projectId), ctx);
      const { scope, projectFilter } = listScope(deps.enforcer, ctx, req.query);
      const page = pageRequest(req, POLICY_SORT_KEYS);
      const where = {
        ...filters(req, ['name', 'status', 'backup_site'] as const),
        project_id: projectFilter,
      };
      // A project's pages are remembered under its change counter, read fresh on every request
      // and before the rows, so a stored page is never older than the counter it is stored under.
      // All-projects lists (admin only, rarely repeated) always go to the database.
      const key = scope !== null && listCache.enabled ? listCacheKey(req, res, scope) : undefined;
      const version = key !== undefined && scope !== null ? await listVersion.get(scope) : 0;
      const cached = key !== undefined ? listCache.get(key, version) : undefined;
      if (cached) return sendJsonBytes(res, cached);
      const found = await listPolicies(deps.db, scope, where, page);
      const body = Buffer.from(JSON.stringify(listBody(req, 'policies', found, page.limit, policyView)));
      if (key !== undefined) listCache.set(key, version, body);
      sendJsonBytes(res, body);
    },
    post: async (req, res) => {
      const ctx = contextOf(req);
      deps.enforcer.authorize('dragon:policy:create', targetFor(ctx.projectId), ctx);
      const { policy: body } = validateCreate(req.body);
      if (!ctx.projectId) throw new DragonError(400, 'Creating a policy needs a project-scoped token.');
      const policy = await createPolicy(
        deps.db,
        {
          projectId: ctx.projectId,
          userId: ctx.userId,
          name: body.name,
          description: body.description,
          backup_site: body.backup_site,
          primary_site: body.primary_site,
          schedule: body.schedule,
          retention: body.retention,
          bank_readers: body.bank_readers,
        },
        policyTrustHooks(deps.conf, req, ctx),
      );
      res
        .status(201)
        .location(`${baseUrl(req)}/v1/policies/${policy.id}`)
        .json({ policy: policyView(policy) });
    },
  });

  route(router, '/policies/:id', {
    get: async (req, res) => {
      const policy = await authorizedPolicy(deps, req, 'dragon:policy:get');
      res.json({ policy: policyView(policy) });
    },
    patch: async (req, res) => {
      const policy = await authorizedPolicy(deps, req, 'dragon:policy:update');
      const { policy: changes } = validateUpdate(req.body);
      res.json({ policy: policyView(await updatePolicy(deps.db, policy, changes)) });
    },
    delete: async (req, res) => {
      const policy = await authorizedPolicy(deps, req, 'dragon:policy:delete');
      await deletePolicy(deps.db, policy, policyTrustHooks(deps.conf, req, contextOf(req)));
      res.status(204).end();
    },
  });

  return router;
}

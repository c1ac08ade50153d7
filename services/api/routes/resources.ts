/** /v1/policies/{id}/resources: the resources of one policy, addressed by cloud resource id. */
import { Router } from 'express';
import { engineOpts } from '../../common/config/index.js';
import {
  addResource,
  getResource,
  listResources,
  RESOURCE_SORT_KEYS,
  removeResource,
  updateResource,
} from '../../common/objects/resources.js';
import type { ApiDeps } from '../deps.js';
import { filters, listBody, pageRequest } from '../lists.js';
import { checkResourceRequirement } from '../resource-requirements.js';
import { route } from '../routing.js';
import {
  type AddResourceBody,
  addResourceSchema,
  type UpdateResourceBody,
  updateResourceSchema,
} from '../schemas/resources.js';
import { baseUrl } from '../urls.js';
import { bodyValidator } from '../validation.js';
import { resourceView } from '../views.js';
import { authorizedPolicy } from './policies.js';

export function resourceRoutes(deps: ApiDeps): Router {
  const router = Router();
  const validateAdd = bodyValidator<AddResourceBody>(addResourceSchema);
  const validateUpdate = bodyValidator<UpdateResourceBody>(updateResourceSchema);
  const heartbeat = () => deps.conf.get(engineOpts).heartbeat_interval;

  route(router, '/policies/:id/resources', {
    get: async (req, res) => {
      const policy = await authorizedPolicy(deps, req, 'dragon:policy:resource:list');
      const page = pageRequest(req, RESOURCE_SORT_KEYS);
      const found = await listResources(
        deps.db,
        policy,
        filters(req, ['resource_type', 'action', 'resource_name'] as const),
        page,
      );
      res.json(listBody(req, 'resources', found, page.limit, resourceView));
    },
    post: async (req, res) => {
      const policy = await authorizedPolicy(deps, req, 'dragon:policy:resource:add');
      const { resource: body } = validateAdd(req.body);
      const resource = await addResource(deps.db, policy, body, heartbeat(), (action) =>
        checkResourceRequirement(deps, req, policy, action, body),
      );
      res
        .status(201)
        .location(
          `${baseUrl(req)}/v1/policies/${policy.id}/resources/${encodeURIComponent(resource.resource_id)}`,
        )
        .json({ resource: resourceView(resource) });
    },
  });

  route(router, '/policies/:id/resources/:resource_id', {
    get: async (req, res) => {
      const policy = await authorizedPolicy(deps, req, 'dragon:policy:resource:get');
      const resource = await getResource(deps.db, policy, String(req.params.resource_id));
      res.json({ resource: resourceView(resource) });
    },
    patch: async (req, res) => {
      const policy = await authorizedPolicy(deps, req, 'dragon:policy:resource:update');
      const resource = await getResource(deps.db, policy, String(req.params.resource_id));
      const { resource: changes } = validateUpdate(req.body);
      res.json({
        resource: resourceView(
          await updateResource(deps.db, policy, resource, changes, heartbeat(), (action) =>
            checkResourceRequirement(deps, req, policy, action, resource),
          ),
        ),
      });
    },
    delete: async (req, res) => {
      const policy = await authorizedPolicy(deps, req, 'dragon:policy:resource:remove');
      const resource = await getResource(deps.db, policy, String(req.params.resource_id));
      await removeResource(deps.db, resource);
      res.status(204).end();
    },
  });

  return router;
}

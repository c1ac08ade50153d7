/**
 * An action's `requires` (its manifest says what a resource must be, as a
 * JSON schema over the resource's facts), checked when a resource is added
 * to a policy or its action changes. The API never loads plugin code: the
 * schema comes with the action from the engines' services rows, and the
 * facts are read at the policy's primary site with the caller's own token,
 * as `GET /v1/protectables` does. When the cloud cannot say (no token, the
 * site or the resource not readable, too slow) the resource is accepted and
 * the action's protect refuses it instead.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { Request } from 'express';
import { DragonError } from '../common/errors.js';
import { getLogger } from '../common/log.js';
import type { ActionInfo } from '../common/objects/actions.js';
import type { PolicyRow } from '../common/objects/policies.js';
import { CinderClient } from '../common/openstack/cinder.js';
import { NovaClient } from '../common/openstack/nova.js';
import { defaultPrimarySite } from '../common/sites/registry.js';
import { resolveSite, siteInterface, siteRegion, siteSession } from '../common/sites/sessions.js';
import type { ResourceFacts } from '../engine/plugin-api.js';
import { contextOf } from './context.js';
import type { ApiDeps } from './deps.js';

/** How long the add waits for the cloud before accepting the resource unchecked. */
const FACTS_TIMEOUT_MS = 10_000;

/** What the API reads about a resource: see ResourceFacts. Throws what the clients throw. */
export async function readResourceFacts(
  clients: { cinder: Pick<CinderClient, 'getVolume' | 'getVolumeType'>; nova: Pick<NovaClient, 'getServer'> },
  resourceType: string,
  resourceId: string,
): Promise<ResourceFacts | undefined> {
  if (resourceType === 'OS::Cinder::Volume') {
    const volume = await clients.cinder.getVolume(resourceId);
    const volumeType = volume.volume_type
      ? await clients.cinder.getVolumeType(volume.volume_type)
      : undefined;
    return {
      volume: volume as Record<string, unknown>,
      ...(volumeType ? { volume_type: volumeType as unknown as Record<string, unknown> } : {}),
    };
  }
  if (resourceType === 'OS::Nova::Server')
    return { server: (await clients.nova.getServer(resourceId)) as unknown as Record<string, unknown> };
  return undefined;
}

const compiled = new Map<string, ValidateFunction>();

/** Null when the facts satisfy the action's requirement (or it has none); else the refusal's message. */
export function requirementProblem(action: ActionInfo, facts: ResourceFacts): string | null {
  if (!action.requires) return null;
  const key = `${action.name}@${action.version}:${JSON.stringify(action.requires.schema)}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = new Ajv({ strict: false }).compile(action.requires.schema);
    compiled.set(key, validate);
  }
  return validate(facts) ? null : action.requires.message;
}

/**
 * Refuses (400) a resource the cloud says the action cannot protect. Called
 * with the action `checkActionFor` found; does nothing for actions without
 * `requires`.
 */
export async function checkResourceRequirement(
  deps: ApiDeps,
  req: Request,
  policy: PolicyRow,
  action: ActionInfo,
  resource: { resource_id: string; resource_type: string },
): Promise<void> {
  if (!action.requires) return;
  const ctx = contextOf(req);
  const log = getLogger('dragon-api.resources', { request_id: ctx.requestId });
  const siteName = policy.primary_site ?? defaultPrimarySite(deps.conf);
  const token = req.get('X-Auth-Token');
  let facts: ResourceFacts | undefined;
  try {
    if (!siteName) throw new Error('the policy has no primary site');
    const site = await resolveSite(deps.conf, deps.db, policy.project_id, siteName);
    if (site.kind === 'operator' && !token) throw new Error('no Keystone token to read the site with');
    const session = await siteSession(
      deps.conf,
      deps.db,
      site,
      { userToken: token ?? '', projectId: policy.project_id },
      { logger: log, globalRequestId: ctx.requestId },
    );
    const endpoint = { region: siteRegion(site), interface: siteInterface(site) };
    let timer: NodeJS.Timeout | undefined;
    try {
      facts = await Promise.race([
        readResourceFacts(
          { cinder: new CinderClient(session, endpoint), nova: new NovaClient(session, endpoint) },
          resource.resource_type,
          resource.resource_id,
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('the site did not answer in time')), FACTS_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await session.close();
    }
  } catch (err) {
    // The cloud cannot say: accepted here, refused at protect if it has to be.
    log.info(
      { action: action.name, resource_id: resource.resource_id, err: (err as Error).message },
      'could not check the action requirement at resource add; the protect checks it',
    );
    return;
  }
  if (!facts) return;
  const problem = requirementProblem(action, facts);
  if (problem)
    throw new DragonError(
      400,
      `Action ${action.name} cannot protect ${resource.resource_type} ${resource.resource_id}: ${problem}.`,
    );
}

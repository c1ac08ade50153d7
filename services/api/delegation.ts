/**
 * Builds a policy's trust hooks for one request: the trust is created with
 * the caller's token (read from the request, used once, never stored) from
 * the caller to Dragon's service user. Without Keystone (auth_strategy =
 * noauth, or no [keystone_authtoken] auth_url) there is nobody to trust:
 * policies are created without one and that is logged.
 */
import type { Request } from 'express';
import { defaultOpts } from '../common/config/core-opts.js';
import type { Config } from '../common/config/load.js';
import type { RequestContext } from '../common/context.js';
import { DragonError } from '../common/errors.js';
import { getLogger } from '../common/log.js';
import type { PolicyTrustHooks } from '../common/objects/policies.js';
import { OpenStackError, OpenStackHttpError } from '../common/openstack/errors.js';
import {
  createTrust,
  deleteTrust,
  type ServiceUserCredentials,
  serviceUserFromConf,
  serviceUserId,
  serviceUserSession,
} from '../common/openstack/trusts.js';
import { keystoneAuthtokenOpts } from './auth/opts.js';

/** The service user's id per Keystone and user name: it does not change while Dragon runs. */
const trustees = new Map<string, Promise<string>>();

function trusteeId(u: ServiceUserCredentials): Promise<string> {
  const key = `${u.authUrl}\n${u.userDomainName}\n${u.username}`;
  let id = trustees.get(key);
  if (!id) {
    id = serviceUserId(u);
    // A failed lookup (Keystone down) is tried again next time.
    id.catch(() => trustees.delete(key));
    trustees.set(key, id);
  }
  return id;
}

export function policyTrustHooks(conf: Config, req: Request, ctx: RequestContext): PolicyTrustHooks {
  const log = getLogger('dragon-api.trusts', { request_id: ctx.requestId });
  const serviceUser =
    conf.get(defaultOpts).auth_strategy === 'keystone'
      ? serviceUserFromConf(conf.get(keystoneAuthtokenOpts))
      : undefined;
  if (!serviceUser) {
    const skip = () => {
      log.info('no Keystone (noauth or no [keystone_authtoken] auth_url): policy without a trust');
      return Promise.resolve(undefined);
    };
    return { createTrust: skip };
  }
  const token = req.get('X-Auth-Token') ?? '';
  return {
    createTrust: async () => {
      if (!ctx.projectId) throw new DragonError(400, 'Creating a policy needs a project-scoped token.');
      try {
        const trust = await createTrust({
          authUrl: serviceUser.authUrl,
          userToken: token,
          trustorUserId: ctx.userId,
          trusteeUserId: await trusteeId(serviceUser),
          projectId: ctx.projectId,
          roles: ctx.roles,
        });
        log.info({ trust_id: trust.id, project_id: ctx.projectId }, 'trust created for policy');
        return trust.id;
      } catch (err) {
        if (err instanceof OpenStackHttpError && err.status < 500)
          throw new DragonError(
            400,
            `Keystone refused to create the trust that lets Dragon act for you: ${err.osMessage ?? err.status}`,
          );
        if (err instanceof OpenStackError)
          throw new DragonError(503, `Keystone could not be reached to create the trust: ${err.message}`);
        throw err;
      }
    },
    deleteTrust: async (trustId, trustorUserId) => {
      // Keystone lets the trustor or an admin delete a trust. When someone else of the project deletes
      // the policy, or the trustor's token is refused, Dragon's service user tries (it may be an admin).
      if (!trustorUserId || trustorUserId === ctx.userId) {
        try {
          await deleteTrust({ authUrl: serviceUser.authUrl, token, trustId });
          log.info({ trust_id: trustId }, 'trust deleted');
          return;
        } catch (err) {
          if (!(err instanceof OpenStackHttpError && err.status === 403)) {
            log.warn({ trust_id: trustId, err: (err as Error).message }, 'trust could not be deleted');
            return;
          }
        }
      }
      const s = serviceUserSession(serviceUser);
      try {
        await deleteTrust({ authUrl: serviceUser.authUrl, token: await s.getToken(), trustId });
        log.info({ trust_id: trustId }, 'trust deleted by the service user');
      } catch (err) {
        log.warn({ trust_id: trustId, err: (err as Error).message }, 'trust could not be deleted');
      } finally {
        await s.close();
      }
    },
  };
}

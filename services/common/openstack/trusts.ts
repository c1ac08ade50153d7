/**
 * Acting for the tenant the way Heat does (`deferred_auth_method = trusts`):
 * when a policy is created, the calling user delegates their roles on the
 * project to Dragon's service user through a Keystone trust; long and
 * scheduled work later authenticates as the service user scoped to that
 * trust, so it keeps working after the user's token expired. The user's
 * token is used for the one call that creates the trust and never stored.
 */
import type { KeystoneAuthtokenConf } from '../../api/auth/opts.js';
import type { Logger } from '../log.js';
import type { EndpointInterface } from './catalog.js';
import { identityBase, KeystoneSession, type SessionOptions } from './session.js';

export interface TrustRequest {
  /** Keystone of the user (Dragon's own, `[keystone_authtoken] auth_url`). */
  authUrl: string;
  /** The calling user's token: used for this one call, never kept. */
  userToken: string;
  trustorUserId: string;
  trusteeUserId: string;
  projectId: string;
  /** Role names of the user's token on the project. */
  roles: string[];
  /** Injected for tests; a one-call session otherwise. */
  dispatcher?: SessionOptions['dispatcher'];
}

export interface Trust {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string;
  impersonation: boolean;
  roles: { id: string; name: string }[];
}

/** A session that only sends the caller's token (no token of its own is issued). */
function tokenSession(authUrl: string, token: string, dispatcher?: SessionOptions['dispatcher']) {
  return new KeystoneSession({ authUrl, auth: { type: 'token', token }, dispatcher });
}

/** POST /v3/OS-TRUST/trusts with the user's token: trustor = user, trustee = Dragon's service user. */
export async function createTrust(req: TrustRequest): Promise<Trust> {
  const s = tokenSession(req.authUrl, req.userToken, req.dispatcher);
  try {
    const body = await s.requestJson<{ trust: Trust }>(
      'POST',
      `${identityBase(req.authUrl)}/v3/OS-TRUST/trusts`,
      {
        authenticated: false,
        headers: { 'X-Auth-Token': req.userToken },
        secrets: [req.userToken],
        serviceName: 'identity',
        json: {
          trust: {
            trustor_user_id: req.trustorUserId,
            trustee_user_id: req.trusteeUserId,
            project_id: req.projectId,
            // Impersonation: work done through the trust is attributed to the user, as with Heat.
            impersonation: true,
            // Heat makes its own trust (deferred auth) from the token Dragon creates stacks with:
            // from a trust-scoped token that is a redelegation, which Keystone refuses (403) unless
            // this trust allows it (found against real Keystone + Heat, docs/cloud-api-notes.md).
            allow_redelegation: true,
            roles: req.roles.map((name) => ({ name })),
          },
        },
      },
    );
    return body.trust;
  } finally {
    await s.close();
  }
}

/**
 * DELETE /v3/OS-TRUST/trusts/{id} with a token allowed to (the trustor's, or an admin's). Returns
 * false when the trust was already gone (404 is not an error: deleting is idempotent).
 */
export async function deleteTrust(opts: {
  authUrl: string;
  token: string;
  trustId: string;
  dispatcher?: SessionOptions['dispatcher'];
}): Promise<boolean> {
  const s = tokenSession(opts.authUrl, opts.token, opts.dispatcher);
  try {
    const res = await s.request(
      'DELETE',
      `${identityBase(opts.authUrl)}/v3/OS-TRUST/trusts/${encodeURIComponent(opts.trustId)}`,
      {
        authenticated: false,
        headers: { 'X-Auth-Token': opts.token },
        secrets: [opts.token],
        serviceName: 'identity',
        allowStatus: [404],
      },
    );
    await res.body?.cancel().catch(() => {});
    return res.status !== 404;
  } finally {
    await s.close();
  }
}

export interface ServiceUserCredentials {
  authUrl: string;
  username: string;
  password: string;
  userDomainName: string;
  projectName: string;
  projectDomainName: string;
  cafile?: string;
  insecure?: boolean;
}

/** Dragon's service user, from `[keystone_authtoken]`. Undefined when no Keystone is configured. */
export function serviceUserFromConf(c: KeystoneAuthtokenConf): ServiceUserCredentials | undefined {
  if (!c.auth_url) return undefined;
  return {
    authUrl: c.auth_url,
    username: c.username,
    password: c.password,
    userDomainName: c.user_domain_name,
    projectName: c.project_name,
    projectDomainName: c.project_domain_name,
    cafile: c.cafile || undefined,
    insecure: c.insecure,
  };
}

/** A project-scoped session of the service user (to learn its id, or delete trusts as an admin). */
export function serviceUserSession(
  u: ServiceUserCredentials,
  extra: Partial<SessionOptions> = {},
): KeystoneSession {
  return new KeystoneSession({
    authUrl: u.authUrl,
    auth: { type: 'password', username: u.username, password: u.password, userDomainName: u.userDomainName },
    scope: { projectName: u.projectName, projectDomainName: u.projectDomainName },
    cafile: u.cafile,
    insecure: u.insecure,
    ...extra,
  });
}

/** The service user's id: the trustee of every trust. */
export async function serviceUserId(u: ServiceUserCredentials, extra: Partial<SessionOptions> = {}) {
  const s = serviceUserSession(u, extra);
  try {
    return (await s.authenticate()).userId;
  } finally {
    await s.close();
  }
}

export interface TrustSessionOptions {
  serviceUser: ServiceUserCredentials;
  trustId: string;
  regionName?: string;
  interface?: EndpointInterface;
  endpointOverrides?: Record<string, string>;
  logger?: Logger;
  globalRequestId?: string;
  dispatcher?: SessionOptions['dispatcher'];
}

/** The service user acting under the trust: a token with the trustor's roles on the trust's project. */
export function trustSession(o: TrustSessionOptions): KeystoneSession {
  const u = o.serviceUser;
  return new KeystoneSession({
    authUrl: u.authUrl,
    auth: { type: 'password', username: u.username, password: u.password, userDomainName: u.userDomainName },
    scope: { trustId: o.trustId },
    regionName: o.regionName,
    interface: o.interface,
    endpointOverrides: o.endpointOverrides,
    cafile: u.cafile,
    insecure: u.insecure,
    logger: o.logger,
    globalRequestId: o.globalRequestId,
    dispatcher: o.dispatcher,
  });
}

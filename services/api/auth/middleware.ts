/**
 * The dragon-api authentication middleware (keystonemiddleware auth_token
 * semantics): every request must carry a valid X-Auth-Token; an
 * X-Service-Token, when present, must be valid too. The result is
 * `req.context`. Anything short of a positive answer from Keystone (or the
 * cache) ends the request: 401 for a bad token, 503 when Keystone cannot
 * answer. Tokens are never logged.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { defaultOpts } from '../../common/config/core-opts.js';
import type { Config } from '../../common/config/load.js';
import type { RequestContext } from '../../common/context.js';
import { DragonError } from '../../common/errors.js';
import { getLogger, type Logger } from '../../common/log.js';
import { KeystoneSession } from '../../common/openstack/session.js';
import { parseNoauthToken } from './noauth.js';
import { authtokenDefaults, type KeystoneAuthtokenConf, keystoneAuthtokenOpts } from './opts.js';
import { TokenCache } from './token-cache.js';
import type { AuthStrategy, ValidatedToken } from './types.js';
import { IdentityUnavailable, InvalidToken, TokenValidator } from './validator.js';

export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';
const GLOBAL_REQUEST_ID = /^req-[0-9a-f-]{36}$/;

export interface AuthMiddlewareOptions {
  strategy?: AuthStrategy;
  /** `[keystone_authtoken]` values; missing ones take their defaults. */
  authtoken?: Partial<KeystoneAuthtokenConf>;
  /** Dragon's service-user session used to validate tokens; built from `authtoken` when absent. */
  session?: KeystoneSession;
  logger?: Logger;
  clock?: () => number;
}

export type AuthMiddleware = RequestHandler & {
  /** Releases the service session's connections (when the middleware built it). */
  close(): Promise<void>;
};

function sessionFromConf(c: KeystoneAuthtokenConf, logger: Logger): KeystoneSession {
  if (!c.auth_url) throw new Error('[keystone_authtoken] auth_url is required when auth_strategy = keystone');
  return new KeystoneSession({
    authUrl: c.auth_url,
    auth: {
      type: 'password',
      username: c.username,
      password: c.password,
      userDomainName: c.user_domain_name,
    },
    scope: { projectName: c.project_name, projectDomainName: c.project_domain_name },
    regionName: c.region_name || undefined,
    interface: c.interface,
    cafile: c.cafile || undefined,
    insecure: c.insecure,
    timeoutMs: c.http_connect_timeout * 1000,
    retries: c.http_request_max_retries,
    userAgent: 'dragon-api keystonemiddleware',
    logger,
  });
}

/** The request id of this request (set earlier by the request-id middleware, or made here). */
function requestIdOf(res: Response): string {
  if (typeof res.locals.requestId !== 'string') res.locals.requestId = `req-${randomUUID()}`;
  return res.locals.requestId;
}

function globalRequestIdOf(req: Request): string | undefined {
  const v = req.get('X-OpenStack-Request-ID');
  return v && GLOBAL_REQUEST_ID.test(v) ? v : undefined;
}

export function createAuthMiddleware(opts: AuthMiddlewareOptions = {}): AuthMiddleware {
  const strategy = opts.strategy ?? 'keystone';
  const log = opts.logger ?? getLogger('dragon-api.auth');
  const conf = authtokenDefaults(opts.authtoken);
  const wwwAuthenticate = conf.www_authenticate_uri || conf.auth_url;
  const unauthorized = () =>
    new DragonError(401, UNAUTHORIZED_MESSAGE, { 'WWW-Authenticate': `Keystone uri="${wwwAuthenticate}"` });
  const unavailable = () =>
    new DragonError(503, 'The identity service is unavailable; the request cannot be authenticated.');

  if (strategy === 'noauth') {
    log.warn(
      'auth_strategy = noauth: tokens are NOT validated, any caller can act as any user and project ' +
        'with any role. Never use this outside development.',
    );
    const handler = (req: Request, res: Response, next: NextFunction) => {
      const requestId = requestIdOf(res);
      const identity = parseNoauthToken(req.get('X-Auth-Token') ?? '');
      if (!identity) return next(unauthorized());
      req.context = { requestId, globalRequestId: globalRequestIdOf(req), ...identity };
      next();
    };
    return Object.assign(handler, { close: async () => {} });
  }

  const ownsSession = !opts.session;
  const session = opts.session ?? sessionFromConf(conf, log);
  const validator = new TokenValidator({
    session,
    cache: new TokenCache(conf.token_cache_time * 1000, 10_000, opts.clock),
    jwsPublicKeyRepository: conf.jws_public_key_repository || undefined,
    interface: conf.interface,
    regionName: conf.region_name || undefined,
    clock: opts.clock,
  });

  const check = async (
    token: string,
    reqLog: () => Logger,
    globalRequestId?: string,
  ): Promise<ValidatedToken> => {
    try {
      return await validator.validate(token, reqLog, globalRequestId);
    } catch (err) {
      if (err instanceof InvalidToken) throw unauthorized();
      if (err instanceof IdentityUnavailable) throw unavailable();
      reqLog().error({ err: (err as Error).message }, 'unexpected token validation failure');
      throw unavailable();
    }
  };

  const handler = async (req: Request, res: Response, next: NextFunction) => {
    const requestId = requestIdOf(res);
    // Made on first use: a cached token with nothing to report needs no child logger.
    let child: Logger | undefined;
    const reqLog = () => {
      child ??= log.child({ request_id: requestId });
      return child;
    };
    const globalRequestId = globalRequestIdOf(req);
    try {
      const token = req.get('X-Auth-Token');
      if (!token) {
        reqLog().info('request without X-Auth-Token refused');
        throw unauthorized();
      }
      const user = await check(token, reqLog, globalRequestId);
      const context = contextFromToken(user, requestId, globalRequestId);

      const serviceToken = req.get('X-Service-Token');
      if (serviceToken) {
        const service = await check(serviceToken, reqLog, globalRequestId);
        const hasRole = service.access.roles.some((r) => conf.service_token_roles.includes(r));
        if (!hasRole) {
          if (conf.service_token_roles_required) {
            reqLog().warn(
              { service_user_id: service.access.userId },
              'service token lacks service_token_roles',
            );
            throw unauthorized();
          }
          reqLog().warn(
            { service_user_id: service.access.userId },
            'service token lacks service_token_roles; accepted because service_token_roles_required = false',
          );
        }
        context.serviceUserId = service.access.userId;
        context.serviceRoles = service.access.roles;
      }
      req.context = context;
      if (log.isLevelEnabled('debug'))
        reqLog().debug({ user_id: context.userId, project_id: context.projectId }, 'authenticated');
      next();
    } catch (err) {
      next(err);
    }
  };
  return Object.assign(handler, {
    close: async () => {
      if (ownsSession) await session.close();
    },
  });
}

export function contextFromToken(
  t: ValidatedToken,
  requestId: string,
  globalRequestId?: string,
): RequestContext {
  const a = t.access;
  return {
    requestId,
    globalRequestId,
    userId: a.userId,
    userName: a.userName,
    userDomainId: a.userDomainId,
    projectId: a.projectId,
    projectName: a.projectName,
    projectDomainId: a.projectDomainId,
    domainId: a.domainId,
    systemScope: a.system ? 'all' : undefined,
    roles: a.roles,
    isAdminProject: t.isAdminProject,
    expiresAt: a.expiresAt.toISOString(),
  };
}

/** The middleware as dragon-api configures it: `[DEFAULT] auth_strategy` and `[keystone_authtoken]`. */
export function createAuthMiddlewareFromConfig(config: Config, logger?: Logger): AuthMiddleware {
  return createAuthMiddleware({
    strategy: config.get(defaultOpts).auth_strategy,
    authtoken: config.get(keystoneAuthtokenOpts),
    logger,
  });
}

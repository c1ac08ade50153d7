/**
 * Token validation as keystonemiddleware does it: offline JWS check (when a
 * key repository is configured), then the cache, then Keystone's
 * GET /v3/auth/tokens with Dragon's service-user session. Concurrent
 * requests carrying the same token share one Keystone round trip.
 */
import type { Logger } from '../../common/log.js';
import {
  AuthenticationError,
  OpenStackConnectionError,
  OpenStackHttpError,
} from '../../common/openstack/errors.js';
import { identityBase, type KeystoneSession, parseTokenBody } from '../../common/openstack/session.js';
import { JwsVerifier } from './jws.js';
import { type TokenCache, tokenHash } from './token-cache.js';
import type { ValidatedToken } from './types.js';

/** The token is missing, malformed, forged, expired or revoked: the caller gets a 401. */
export class InvalidToken extends Error {
  override name = 'InvalidToken';
}

/** Keystone could not give an answer: the caller gets a 503, never a pass. */
export class IdentityUnavailable extends Error {
  override name = 'IdentityUnavailable';
}

export interface TokenValidatorOptions {
  session: KeystoneSession;
  cache: TokenCache;
  /** Empty: no offline JWS check. */
  jwsPublicKeyRepository?: string;
  interface?: 'public' | 'internal' | 'admin';
  regionName?: string;
  clock?: () => number;
}

export class TokenValidator {
  readonly #inflight = new Map<string, Promise<ValidatedToken>>();
  readonly #jws?: JwsVerifier;
  readonly #clock: () => number;

  constructor(readonly opts: TokenValidatorOptions) {
    this.#clock = opts.clock ?? Date.now;
    if (opts.jwsPublicKeyRepository) this.#jws = new JwsVerifier(opts.jwsPublicKeyRepository, this.#clock);
  }

  /** Resolves to what Keystone vouches for, or throws InvalidToken / IdentityUnavailable. */
  /**
   * `log` may be a function making the request's logger: a cache hit (nearly
   * every request) then never pays for building a child logger it does not use.
   */
  async validate(
    token: string,
    requestLog: Logger | (() => Logger),
    globalRequestId?: string,
  ): Promise<ValidatedToken> {
    // A token in the cache was vouched for by Keystone (signature included) and
    // has not expired: the offline JWS check would only repeat an ES256 verify.
    const hash = tokenHash(token);
    const cached = this.opts.cache.get(hash);
    if (cached === 'invalid') throw new InvalidToken('cached invalid');
    if (cached && cached.access.expiresAt.getTime() > this.#clock()) return cached;
    const log = typeof requestLog === 'function' ? requestLog() : requestLog;
    if (this.#jws) {
      let verdict: Awaited<ReturnType<JwsVerifier['verify']>>;
      try {
        verdict = await this.#jws.verify(token);
      } catch (err) {
        // An unreadable key repository is a deployment fault, not the caller's.
        log.error({ err: (err as Error).message }, 'cannot read the JWS public key repository');
        throw new IdentityUnavailable('JWS public keys unavailable');
      }
      if (verdict === 'bad_signature' || verdict === 'expired') {
        log.info({ reason: verdict }, 'JWS token refused offline');
        throw new InvalidToken(verdict);
      }
    }

    // The offline check awaited: another request may have validated this token meanwhile.
    const validated = this.opts.cache.get(hash);
    if (validated === 'invalid') throw new InvalidToken('cached invalid');
    if (validated && validated.access.expiresAt.getTime() > this.#clock()) return validated;
    let pending = this.#inflight.get(hash);
    if (!pending) {
      pending = this.#online(token, hash, log, globalRequestId).finally(() => this.#inflight.delete(hash));
      this.#inflight.set(hash, pending);
    }
    return pending;
  }

  async #online(token: string, hash: string, log: Logger, globalRequestId?: string): Promise<ValidatedToken> {
    const session = this.opts.session;
    let res: Awaited<ReturnType<KeystoneSession['request']>>;
    try {
      const identity = await this.#identityUrl();
      res = await session.request('GET', `${identity}/v3/auth/tokens`, {
        headers: { 'X-Subject-Token': token },
        allowStatus: [400, 404],
        serviceName: 'identity',
        secrets: [token],
        requestId: globalRequestId,
        logger: log,
      });
    } catch (err) {
      if (
        err instanceof OpenStackConnectionError ||
        err instanceof AuthenticationError ||
        (err instanceof OpenStackHttpError && (err.status >= 500 || err.status === 401 || err.status === 403))
      ) {
        // 401/403 here means Dragon's own service credentials are wrong: a deployment fault.
        log.error({ err: (err as Error).message }, 'token validation failed: identity service unavailable');
        throw new IdentityUnavailable((err as Error).message);
      }
      log.error({ err: (err as Error).message }, 'token validation failed');
      throw new IdentityUnavailable('token validation failed');
    }
    if (res.status === 404 || res.status === 400) {
      await res.body?.cancel().catch(() => {});
      this.opts.cache.set(hash, 'invalid');
      throw new InvalidToken('Keystone does not know the token');
    }
    const body = (await res.json()) as { token?: Record<string, unknown> };
    if (!body.token) throw new IdentityUnavailable('Keystone answered without a token body');
    const access = parseTokenBody(body.token);
    if (!(access.expiresAt.getTime() > this.#clock())) {
      this.opts.cache.set(hash, 'invalid');
      throw new InvalidToken('expired');
    }
    const validated: ValidatedToken = {
      access,
      isAdminProject: body.token.is_admin_project !== false,
    };
    this.opts.cache.set(hash, validated);
    return validated;
  }

  /** The identity endpoint of the configured interface/region, or auth_url when the catalog has none. */
  async #identityUrl(): Promise<string> {
    const { session } = this.opts;
    try {
      return identityBase(
        await session.endpointFor('identity', {
          interface: this.opts.interface,
          region: this.opts.regionName,
        }),
      );
    } catch (err) {
      if (err instanceof AuthenticationError || err instanceof OpenStackConnectionError) throw err;
      if (err instanceof OpenStackHttpError) throw err;
      return session.authUrl;
    }
  }
}

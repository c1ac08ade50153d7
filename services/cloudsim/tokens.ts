/**
 * The token provider of the simulated Keystone: turns a v3 auth request into a
 * JWS token (ES256, header {"alg":"ES256","typ":"JWT"}, the claims Keystone's
 * jws provider writes) and a token into the v3 token body. Like Keystone's JWS
 * provider, the token only carries identity and scope; roles and catalog are
 * resolved from the store at validation time, so revoked grants take effect
 * immediately.
 */
import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { JWS_ALG, type JwsKeys } from './jws-keys.js';
import {
  type AssignmentTarget,
  DEFAULT_DOMAIN_ID,
  IdentityError,
  type IdentityStore,
  type Project,
  type Role,
  type User,
} from './store.js';

export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';

export interface TokenClaims {
  sub: string;
  iat: number;
  exp: number;
  openstack_methods: string[];
  openstack_audit_ids: string[];
  openstack_project_id?: string;
  openstack_domain_id?: string;
  openstack_system?: string;
  openstack_trust_id?: string;
  openstack_app_cred_id?: string;
}

export interface TokenProviderOptions {
  /** Token lifetime in seconds (Keystone `[token] expiration`). */
  expiration?: number;
  /** How long after expiry `allow_expired=1` still validates, seconds (`[token] allow_expired_window`). */
  allowExpiredWindow?: number;
  /** Milliseconds since the epoch; tests may move time. */
  clock?: () => number;
}

type Json = Record<string, unknown>;

const unauthorized = () => new IdentityError(401, UNAUTHORIZED_MESSAGE);
/** Real Keystone echoes the token in this message; clients must scrub it, and the tests check they do. */
const tokenNotFound = (token: string) => new IdentityError(404, `Could not find token: ${token}.`);
const notFound = () => new IdentityError(404, 'Failed to validate token');
const auditId = () => randomBytes(16).toString('base64url');

/** Keystone's timestamp format: microseconds and a Z. */
export function keystoneTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '.000000Z');
}

const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;

export class TokenProvider {
  readonly expiration: number;
  readonly allowExpiredWindow: number;
  readonly clock: () => number;

  constructor(
    readonly store: IdentityStore,
    readonly keys: JwsKeys,
    opts: TokenProviderOptions = {},
  ) {
    this.expiration = opts.expiration ?? 3600;
    this.allowExpiredWindow = opts.allowExpiredWindow ?? 172800;
    this.clock = opts.clock ?? Date.now;
  }

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000);
  }

  // ---- issuing --------------------------------------------------------------------------------

  /** POST /v3/auth/tokens: returns the token and its claims, or throws IdentityError(400/401/403). */
  async authenticate(body: unknown): Promise<{ token: string; claims: TokenClaims }> {
    const auth = obj(obj(body)?.auth);
    const identity = obj(auth?.identity);
    const methods = identity?.methods;
    if (!auth || !identity || !Array.isArray(methods) || methods.length === 0)
      throw new IdentityError(
        400,
        'Expecting to find identity in auth - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
      );
    const now = this.nowSeconds();
    let userId: string;
    let exp = now + this.expiration;
    let auditIds = [auditId()];
    let methodsOut = methods.map(String);
    let inherited: TokenClaims | undefined;
    let appCredId: string | undefined;

    if (methods.includes('password')) {
      userId = this.passwordUser(obj(identity.password));
    } else if (methods.includes('token')) {
      const tokenId = obj(identity.token)?.id;
      if (typeof tokenId !== 'string') throw unauthorized();
      inherited = await this.verify(tokenId).catch(() => {
        throw unauthorized();
      });
      // A token made from a token keeps the original expiry and audit chain.
      userId = inherited.sub;
      exp = inherited.exp;
      auditIds = [auditIds[0], inherited.openstack_audit_ids[0]];
      methodsOut = [...new Set(['token', ...inherited.openstack_methods])];
      if (inherited.openstack_app_cred_id || inherited.openstack_trust_id) {
        // Keystone refuses to rescope trust and application credential tokens.
        if (auth.scope !== undefined)
          throw new IdentityError(403, 'Rescoping a restricted token is not allowed.');
      }
    } else if (methods.includes('application_credential')) {
      const cred = this.applicationCredential(obj(identity.application_credential));
      userId = cred.userId;
      appCredId = cred.id;
      if (cred.expiresAt !== undefined) exp = Math.min(exp, Math.floor(cred.expiresAt / 1000));
    } else {
      throw unauthorized();
    }

    const user = this.store.users.get(userId);
    if (!user?.enabled || !this.domainEnabled(user.domainId)) throw unauthorized();

    const claims: TokenClaims = {
      sub: userId,
      iat: now,
      exp,
      openstack_methods: methodsOut,
      openstack_audit_ids: auditIds,
    };
    if (appCredId) {
      claims.openstack_app_cred_id = appCredId;
      claims.openstack_project_id = this.store.applicationCredentials.get(appCredId)!.projectId;
    } else if (inherited?.openstack_app_cred_id || inherited?.openstack_trust_id) {
      for (const k of ['openstack_app_cred_id', 'openstack_trust_id', 'openstack_project_id'] as const) {
        if (inherited[k]) claims[k] = inherited[k];
      }
    } else {
      this.applyScope(claims, user, auth.scope, inherited);
    }
    // Refuse a scope the user holds no role on, as Keystone does at issue time.
    this.resolve(claims);
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: JWS_ALG, typ: 'JWT' })
      .sign(this.keys.privateKey);
    this.store.stats.issued++;
    return { token, claims };
  }

  private passwordUser(password: Json | undefined): string {
    const u = obj(password?.user);
    const secret = u?.password;
    if (!u || typeof secret !== 'string') throw unauthorized();
    const user =
      typeof u.id === 'string'
        ? this.store.users.get(u.id)
        : this.store.findUser({ name: String(u.name ?? ''), domainId: this.domainRef(obj(u.domain)) });
    if (!user || !this.store.checkPassword(user.id, secret)) {
      this.store.stats.authFailures++;
      throw unauthorized();
    }
    return user.id;
  }

  private applicationCredential(ac: Json | undefined) {
    const secret = ac?.secret;
    if (!ac || typeof secret !== 'string') throw unauthorized();
    let cred = typeof ac.id === 'string' ? this.store.applicationCredentials.get(ac.id) : undefined;
    if (!cred && typeof ac.name === 'string') {
      const u = obj(ac.user);
      const owner =
        typeof u?.id === 'string'
          ? this.store.users.get(u.id)
          : this.store.findUser({ name: String(u?.name ?? ''), domainId: this.domainRef(obj(u?.domain)) });
      cred = [...this.store.applicationCredentials.values()].find(
        (c) => c.name === ac.name && c.userId === owner?.id,
      );
    }
    if (!cred || !this.store.checkApplicationCredentialSecret(cred.id, secret)) {
      this.store.stats.authFailures++;
      throw unauthorized();
    }
    if (cred.expiresAt !== undefined && cred.expiresAt <= this.clock()) throw unauthorized();
    return cred;
  }

  private domainRef(d: Json | undefined): string {
    if (!d) return DEFAULT_DOMAIN_ID;
    if (typeof d.id === 'string') return d.id;
    return this.store.findDomain({ name: String(d.name ?? '') })?.id ?? '\u0000no-such-domain';
  }

  private domainEnabled(id: string): boolean {
    return this.store.domains.get(id)?.enabled ?? false;
  }

  private applyScope(claims: TokenClaims, user: User, scope: unknown, inherited?: TokenClaims): void {
    if (scope === 'unscoped') return;
    const s = obj(scope);
    if (!s) {
      if (inherited) {
        for (const k of ['openstack_project_id', 'openstack_domain_id', 'openstack_system'] as const)
          if (inherited[k]) claims[k] = inherited[k];
        return;
      }
      // No scope: Keystone scopes to the default project when the user has roles there.
      if (
        user.defaultProjectId &&
        this.store.effectiveRoles(user.id, { projectId: user.defaultProjectId }).length
      )
        claims.openstack_project_id = user.defaultProjectId;
      return;
    }
    const p = obj(s.project);
    const d = obj(s.domain);
    const trust = obj(s['OS-TRUST:trust']);
    if (p) {
      const project =
        typeof p.id === 'string'
          ? this.store.projects.get(p.id)
          : this.store.findProject({ name: String(p.name ?? ''), domainId: this.domainRef(obj(p.domain)) });
      if (!project) throw unauthorized();
      claims.openstack_project_id = project.id;
    } else if (d) {
      const domain = this.store.findDomain({
        id: d.id as string | undefined,
        name: d.name as string | undefined,
      });
      if (!domain) throw unauthorized();
      claims.openstack_domain_id = domain.id;
    } else if (obj(s.system)?.all === true) {
      claims.openstack_system = 'all';
    } else if (trust) {
      const t = this.store.trusts.get(String(trust.id ?? ''));
      if (!t || t.trusteeUserId !== user.id) throw unauthorized();
      if (t.remainingUses !== undefined) {
        if (t.remainingUses <= 0) throw unauthorized();
        t.remainingUses--;
      }
      claims.openstack_trust_id = t.id;
      claims.openstack_project_id = t.projectId;
      if (t.expiresAt !== undefined) claims.exp = Math.min(claims.exp, Math.floor(t.expiresAt / 1000));
    } else {
      throw new IdentityError(400, 'Invalid scope.');
    }
  }

  // ---- validating -----------------------------------------------------------------------------

  /** Checks signature, expiry and revocation; throws IdentityError(404) for any invalid token. */
  async verify(token: string, opts: { allowExpired?: boolean } = {}): Promise<TokenClaims> {
    let claims: TokenClaims | undefined;
    // Every public key in the repository is tried, so a rotated-out key still validates its tokens.
    for (const key of this.keys.publicKeys) {
      try {
        const res = await jwtVerify(token, key, {
          algorithms: [JWS_ALG],
          // Expiry is checked below so that allow_expired can be honoured.
          currentDate: new Date(0),
        });
        claims = res.payload as unknown as TokenClaims;
        break;
      } catch {
        // try the next key
      }
    }
    if (!claims || typeof claims.sub !== 'string' || !Array.isArray(claims.openstack_audit_ids))
      throw tokenNotFound(token);
    const now = this.nowSeconds();
    const window = opts.allowExpired ? this.allowExpiredWindow : 0;
    if (claims.exp + window <= now) throw notFound();
    if (claims.openstack_audit_ids?.some((a) => this.store.revokedAuditIds.has(a))) throw notFound();
    return claims;
  }

  /** Revokes a token and every token made from it (they share its audit id), like DELETE /v3/auth/tokens. */
  async revoke(token: string): Promise<void> {
    const claims = await this.verify(token);
    this.store.revokedAuditIds.set(claims.openstack_audit_ids[0], this.nowSeconds());
  }

  /** The v3 token body (`{"token": {...}}`) of a valid token. */
  async validate(token: string, opts: { allowExpired?: boolean; noCatalog?: boolean } = {}): Promise<Json> {
    const claims = await this.verify(token, opts);
    const resolved = (() => {
      try {
        return this.resolve(claims);
      } catch {
        throw notFound();
      }
    })();
    return { token: this.body(claims, resolved, !opts.noCatalog) };
  }

  /** What a token means right now: user, scope and effective roles; throws when no longer valid. */
  resolve(claims: TokenClaims): { user: User; project?: Project; roles: Role[]; actingUser: User } {
    const store = this.store;
    const actingUser = store.users.get(claims.sub);
    if (!actingUser?.enabled || !this.domainEnabled(actingUser.domainId)) throw unauthorized();
    let user = actingUser;
    let target: AssignmentTarget | undefined;
    let project: Project | undefined;
    if (claims.openstack_project_id) {
      project = store.projects.get(claims.openstack_project_id);
      if (!project?.enabled || !this.domainEnabled(project.domainId)) throw unauthorized();
      target = { projectId: project.id };
    } else if (claims.openstack_domain_id) {
      if (!this.domainEnabled(claims.openstack_domain_id)) throw unauthorized();
      target = { domainId: claims.openstack_domain_id };
    } else if (claims.openstack_system) {
      target = { system: 'all' };
    }
    if (!target) return { user, roles: [], actingUser };

    let roles: Role[];
    if (claims.openstack_trust_id) {
      const trust = store.trusts.get(claims.openstack_trust_id);
      if (!trust || (trust.expiresAt !== undefined && trust.expiresAt <= this.clock())) throw unauthorized();
      const trustor = store.users.get(trust.trustorUserId);
      if (!trustor?.enabled) throw unauthorized();
      const trustorRoles = new Set(store.effectiveRoles(trustor.id, target).map((r) => r.id));
      // A trust is only as good as the trustor's current roles.
      if (!trust.roleIds.every((r) => trustorRoles.has(r))) throw unauthorized();
      roles = store.expandRoles(trust.roleIds);
      if (trust.impersonation) user = trustor;
    } else if (claims.openstack_app_cred_id) {
      const cred = store.applicationCredentials.get(claims.openstack_app_cred_id);
      if (!cred || (cred.expiresAt !== undefined && cred.expiresAt <= this.clock())) throw unauthorized();
      const owned = new Set(store.effectiveRoles(cred.userId, target).map((r) => r.id));
      if (!cred.roleIds.every((r) => owned.has(r))) throw unauthorized();
      roles = store.expandRoles(cred.roleIds);
    } else {
      roles = store.effectiveRoles(actingUser.id, target);
    }
    if (roles.length === 0) throw unauthorized();
    return { user, project, roles, actingUser };
  }

  private body(claims: TokenClaims, r: ReturnType<TokenProvider['resolve']>, withCatalog: boolean): Json {
    const store = this.store;
    const domainOf = (id: string) => ({ id, name: store.domains.get(id)?.name ?? id });
    const token: Json = {
      methods: claims.openstack_methods,
      user: {
        domain: domainOf(r.user.domainId),
        id: r.user.id,
        name: r.user.name,
        password_expires_at: null,
      },
      audit_ids: claims.openstack_audit_ids,
      expires_at: keystoneTime(claims.exp),
      issued_at: keystoneTime(claims.iat),
    };
    if (r.project) {
      token.project = { domain: domainOf(r.project.domainId), id: r.project.id, name: r.project.name };
      token.is_domain = false;
      token.is_admin_project = r.project.id === store.adminProjectId;
    } else if (claims.openstack_domain_id) {
      token.domain = domainOf(claims.openstack_domain_id);
    } else if (claims.openstack_system) {
      token.system = { all: true };
    }
    if (r.roles.length) token.roles = r.roles.map((role) => ({ id: role.id, name: role.name }));
    if (claims.openstack_trust_id) {
      const t = store.trusts.get(claims.openstack_trust_id)!;
      token['OS-TRUST:trust'] = {
        id: t.id,
        impersonation: t.impersonation,
        trustee_user: { id: t.trusteeUserId },
        trustor_user: { id: t.trustorUserId },
      };
    }
    if (claims.openstack_app_cred_id) {
      const c = store.applicationCredentials.get(claims.openstack_app_cred_id)!;
      token.application_credential = { id: c.id, name: c.name, restricted: !c.unrestricted };
    }
    if (withCatalog && (r.project || claims.openstack_domain_id || claims.openstack_system))
      token.catalog = store.catalogFor(r.project?.id);
    return token;
  }
}

/**
 * A Keystone v3 session, the one place where Dragon authenticates to
 * OpenStack and talks HTTP to it (keystoneauth's Session + plugin in one):
 * password, token, application credential and trust-scoped auth; the token
 * is kept and renewed before it expires and once after a 401; endpoints come
 * from the token's catalog; idempotent calls are retried with exponential
 * backoff on connection errors and 502/503/504; every call carries the
 * global request id. Every service client is built on this.
 */
import { readFileSync } from 'node:fs';
import { Agent, type BodyInit, type Dispatcher, fetch, type Response } from 'undici';
import { getLogger, type Logger } from '../log.js';
import { type CatalogEntry, type EndpointFilter, type EndpointInterface, ServiceCatalog } from './catalog.js';
import {
  AuthenticationError,
  OpenStackConnectionError,
  OpenStackHttpError,
  parseErrorMessage,
  safeUrl,
  scrubSecrets,
} from './errors.js';

export type AuthCredentials =
  | {
      type: 'password';
      password: string;
      username?: string;
      userId?: string;
      userDomainName?: string;
      userDomainId?: string;
    }
  | { type: 'token'; token: string }
  | {
      type: 'application_credential';
      secret: string;
      id?: string;
      name?: string;
      username?: string;
      userId?: string;
      userDomainName?: string;
      userDomainId?: string;
    };

/** What the token is scoped to. An application credential carries its own scope; give none. */
export interface AuthScope {
  projectId?: string;
  projectName?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  domainId?: string;
  domainName?: string;
  system?: boolean;
  /** Trust-scoped: the trustee (these credentials) acts under this trust. */
  trustId?: string;
  unscoped?: boolean;
}

export interface SessionOptions {
  /** Keystone URL, with or without /v3. */
  authUrl: string;
  auth: AuthCredentials;
  scope?: AuthScope;
  /** Default region and interface for endpointFor(). */
  regionName?: string;
  interface?: EndpointInterface;
  /**
   * Endpoints used instead of the catalog's, by service type (`compute`, `volumev3`, ...), e.g. a
   * site's `[site:NAME] compute_endpoint`. `%(project_id)s` is replaced with the token's project.
   */
  endpointOverrides?: Record<string, string>;
  /** PEM CA bundle (content) or a path to one, for TLS endpoints signed by a private CA. */
  ca?: string | Buffer;
  cafile?: string;
  insecure?: boolean;
  /**
   * Reuse connections (default on). Off means a new connection per request,
   * closed by the server after the response — and undici 7 (the last line for
   * Node 20) can then crash the process with `assert(!this.paused)` when the
   * server closes while a streamed download is paused for backpressure
   * (nodejs/undici#5360). uwsgi-hosted APIs that close sockets announce it
   * with `Connection: close` (see realcloud-notes), and idempotent calls are
   * retried on a connection reset, so keep-alive is the safe default.
   */
  keepAlive?: boolean;
  /**
   * Milliseconds until response headers arrive, per attempt (streamed uploads: none unless a call sets
   * one), and the longest silence while a body is read. Default 60 s.
   */
  timeoutMs?: number;
  /** Retries of idempotent calls. Default 3. */
  retries?: number;
  /** First retry delay, doubled on each retry. Default 500 ms. */
  retryDelayMs?: number;
  /** Re-authenticate this long before expiry (capped at half the token lifetime). Default 120 s. */
  reauthMarginSeconds?: number;
  /** X-OpenStack-Request-ID sent on every call unless a call gives its own. */
  globalRequestId?: string;
  userAgent?: string;
  logger?: Logger;
  /** For tests: a dispatcher to use instead of building an Agent. */
  dispatcher?: Dispatcher;
}

export interface AccessInfo {
  expiresAt: Date;
  issuedAt: Date;
  userId: string;
  userName?: string;
  userDomainId?: string;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  domainId?: string;
  system: boolean;
  roles: string[];
  methods: string[];
  auditIds: string[];
  trustId?: string;
  applicationCredentialId?: string;
  catalog: ServiceCatalog;
}

export type RequestTarget =
  | string
  | { service: string; path: string; interface?: EndpointInterface; region?: string };

export interface RequestOptions {
  json?: unknown;
  /** A raw body; a stream (Node Readable / async iterable) is sent as is and never retried. */
  body?: BodyInit | AsyncIterable<Uint8Array> | NodeJS.ReadableStream;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  timeoutMs?: number;
  /** Retry even a non-idempotent call (safe ones such as token issue). */
  retry?: boolean;
  /** Send X-Auth-Token. Default true. */
  authenticated?: boolean;
  /** Statuses returned instead of thrown, besides 2xx (e.g. [404] for existence checks). */
  allowStatus?: number[];
  /** X-OpenStack-Request-ID of this call. */
  requestId?: string;
  /** Name used in errors and logs when the target is a URL. */
  serviceName?: string;
  /** Secrets in the request (e.g. a subject token) to scrub from error messages. */
  secrets?: string[];
  signal?: AbortSignal;
  /** Logger of the caller (e.g. bound to its request id); the session's own otherwise. */
  logger?: Logger;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRY_STATUS = new Set([502, 503, 504]);
const MAX_BACKOFF_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 60_000;

/** Keystone base URL without a trailing /v3 (catalog identity URLs and auth_url both come either way). */
export function identityBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v3$/, '');
}

/** How long close() lets requests in flight finish before it destroys the connections. */
const CLOSE_GRACE_MS = 5000;

export class KeystoneSession {
  readonly #opts: SessionOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #log: Logger;
  #token?: string;
  #access?: AccessInfo;
  #authing?: Promise<AccessInfo>;
  #closed = false;

  constructor(opts: SessionOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? getLogger('openstack.session');
    if (opts.dispatcher) {
      this.#dispatcher = opts.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      const ca = opts.ca ?? (opts.cafile ? readFileSync(opts.cafile) : undefined);
      const idle = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      this.#dispatcher = new Agent({
        // pipelining 0 = no keep-alive in undici.
        pipelining: opts.keepAlive === false ? 0 : 1,
        // Inactivity limits: waiting for headers after the body was sent, and between body chunks.
        headersTimeout: idle,
        bodyTimeout: idle,
        connect: {
          timeout: Math.min(idle, 30_000),
          ...(ca ? { ca } : {}),
          ...(opts.insecure ? { rejectUnauthorized: false } : {}),
        },
      });
      this.#ownsDispatcher = true;
    }
  }

  get authUrl(): string {
    return identityBase(this.#opts.authUrl);
  }

  /** The current token's facts (no token), after the first authentication. */
  get access(): AccessInfo | undefined {
    return this.#access;
  }

  /** Authenticates unless the held token is still good; concurrent callers share one request. */
  async authenticate(force = false): Promise<AccessInfo> {
    if (!force && this.#access && !this.#expiresSoon(this.#access)) return this.#access;
    if (!this.#authing) {
      this.#authing = this.#issue().finally(() => {
        this.#authing = undefined;
      });
    }
    return this.#authing;
  }

  async getToken(): Promise<string> {
    await this.authenticate();
    return this.#token!;
  }

  /** Drops the held token; the next call authenticates again. */
  invalidate(): void {
    this.#token = undefined;
    this.#access = undefined;
  }

  async endpointFor(serviceType: string, filter: EndpointFilter = {}): Promise<string> {
    const access = await this.authenticate();
    const override = this.#opts.endpointOverrides?.[serviceType];
    if (override) return override.replace(/\/+$/, '').replace(/[%$]\(project_id\)s/g, access.projectId ?? '');
    return access.catalog.endpointFor(serviceType, {
      interface: filter.interface ?? this.#opts.interface ?? 'public',
      region: filter.region ?? this.#opts.regionName,
    });
  }

  /** Performs a call; non-2xx statuses (outside allowStatus) throw OpenStackHttpError. */
  async request(method: string, target: RequestTarget, opts: RequestOptions = {}): Promise<Response> {
    const verb = method.toUpperCase();
    const authenticated = opts.authenticated ?? true;
    const service = typeof target === 'string' ? (opts.serviceName ?? 'openstack') : target.service;
    let url =
      typeof target === 'string'
        ? target
        : `${await this.endpointFor(target.service, target)}/${target.path.replace(/^\/+/, '')}`;
    if (opts.query) {
      const u = new URL(url);
      for (const [k, v] of Object.entries(opts.query)) if (v !== undefined) u.searchParams.set(k, String(v));
      url = u.toString();
    }
    const streaming = opts.body !== undefined && isStream(opts.body);
    const replayable = !streaming;
    const retryable = replayable && (opts.retry ?? IDEMPOTENT.has(verb));
    const retries = this.#opts.retries ?? 3;
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': this.#opts.userAgent ?? 'dragon',
      ...(opts.json !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(opts.headers ?? {}),
    };
    const requestId = opts.requestId ?? this.#opts.globalRequestId;
    if (requestId) headers['X-OpenStack-Request-ID'] = requestId;
    const body = opts.json !== undefined ? JSON.stringify(opts.json) : opts.body;

    const log = opts.logger ?? this.#log;
    let reauthenticated = false;
    for (let attempt = 0; ; attempt++) {
      const sent = { ...headers };
      if (authenticated) sent['X-Auth-Token'] = await this.getToken();
      const started = Date.now();
      let res: Response;
      try {
        res = await this.#fetch(verb, url, sent, body, streaming, opts);
      } catch (err) {
        const timedOut = (err as Error).name === 'TimeoutError';
        const reason = timedOut ? 'timed out' : describeNetworkError(err);
        if (retryable && attempt < retries && !opts.signal?.aborted) {
          log.warn(
            { os_service: service, method: verb, url: safeUrl(url), attempt, reason },
            'retrying after error',
          );
          await sleep(this.#backoff(attempt));
          continue;
        }
        throw new OpenStackConnectionError(service, verb, url, reason, timedOut);
      }
      const calleeId =
        res.headers.get('x-openstack-request-id') ??
        res.headers.get('x-compute-request-id') ??
        res.headers.get('x-trans-id') ??
        undefined;
      log.debug(
        {
          os_service: service,
          method: verb,
          url: safeUrl(url),
          status: res.status,
          ms: Date.now() - started,
          callee_request_id: calleeId,
        },
        'openstack call',
      );
      if (RETRY_STATUS.has(res.status) && retryable && attempt < retries) {
        log.warn(
          { os_service: service, method: verb, url: safeUrl(url), attempt, status: res.status },
          'retrying after error',
        );
        await res.body?.cancel().catch(() => {});
        await sleep(this.#backoff(attempt));
        continue;
      }
      if (res.status === 401 && authenticated && !reauthenticated && replayable) {
        // The token may have been revoked or Keystone restarted with new keys: one fresh token, one retry.
        await res.body?.cancel().catch(() => {});
        reauthenticated = true;
        // Another call may already have replaced the token; only drop the one that failed.
        if (this.#token === sent['X-Auth-Token']) this.invalidate();
        attempt--;
        continue;
      }
      if (res.ok || opts.allowStatus?.includes(res.status)) return res;
      const text = await res.text().catch(() => '');
      const secrets = [this.#token, ...(opts.secrets ?? []), ...this.#credentialSecrets()];
      const osMessage = parseErrorMessage(text, res.headers.get('content-type') ?? '');
      throw new OpenStackHttpError({
        service,
        method: verb,
        url,
        status: res.status,
        osMessage: osMessage ? scrubSecrets(osMessage, secrets) : undefined,
        requestId: calleeId,
      });
    }
  }

  /** request() and JSON.parse of the answer (undefined for 204 / empty bodies). */
  async requestJson<T = unknown>(
    method: string,
    target: RequestTarget,
    opts: RequestOptions = {},
  ): Promise<T> {
    const res = await this.request(method, target, opts);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async close(): Promise<void> {
    if (!this.#ownsDispatcher || this.#closed) return;
    this.#closed = true;
    // close() waits for every request in flight; one left behind (a stream nobody reads any more
    // after a cancel) would keep it waiting for ever, and with it the engine's shutdown.
    const dispatcher = this.#dispatcher;
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        dispatcher.destroy().then(resolve, () => resolve());
      }, CLOSE_GRACE_MS);
      timer.unref();
    });
    try {
      await Promise.race([dispatcher.close(), forced]);
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  #expiresSoon(a: AccessInfo): boolean {
    const lifetime = a.expiresAt.getTime() - a.issuedAt.getTime();
    const margin = Math.min((this.#opts.reauthMarginSeconds ?? 120) * 1000, lifetime / 2);
    return a.expiresAt.getTime() - Date.now() <= margin;
  }

  #backoff(attempt: number): number {
    const base = (this.#opts.retryDelayMs ?? 500) * 2 ** attempt;
    return Math.min(MAX_BACKOFF_MS, base * (0.75 + Math.random() * 0.5));
  }

  #credentialSecrets(): string[] {
    const a = this.#opts.auth;
    return a.type === 'password' ? [a.password] : a.type === 'token' ? [a.token] : [a.secret];
  }

  async #fetch(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: RequestOptions['body'],
    streaming: boolean,
    opts: RequestOptions,
  ): Promise<Response> {
    // A deadline until the response headers, then cleared so a long download is not cut off (undici's
    // bodyTimeout bounds a stalled body instead). A streamed upload may legitimately take longer than
    // any fixed deadline, so it only gets one when the caller asks.
    const ms = opts.timeoutMs ?? (streaming ? undefined : (this.#opts.timeoutMs ?? DEFAULT_TIMEOUT_MS));
    const deadline = new AbortController();
    const timer = ms === undefined ? undefined : setTimeout(() => deadline.abort(), ms);
    const signal = opts.signal ? AbortSignal.any([deadline.signal, opts.signal]) : deadline.signal;
    try {
      return await fetch(url, {
        method,
        headers,
        body: body as BodyInit | undefined,
        signal,
        dispatcher: this.#dispatcher,
        // redirect 'error': undici otherwise keeps every uploaded chunk in memory so it could replay the body on a redirect.
        ...(streaming ? { duplex: 'half' as const, redirect: 'error' as const } : {}),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (
        deadline.signal.aborted ||
        code === 'UND_ERR_HEADERS_TIMEOUT' ||
        code === 'UND_ERR_CONNECT_TIMEOUT'
      ) {
        const e = new Error('timed out');
        e.name = 'TimeoutError';
        throw e;
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async #issue(): Promise<AccessInfo> {
    const url = `${this.authUrl}/v3/auth/tokens`;
    let res: Response;
    try {
      res = await this.request('POST', url, {
        json: this.#authBody(),
        authenticated: false,
        retry: true,
        serviceName: 'identity',
        allowStatus: [401, 403, 404],
      });
    } catch (err) {
      if (err instanceof OpenStackHttpError && err.status === 400)
        throw new AuthenticationError(`Keystone refused the authentication request: ${err.osMessage ?? ''}`);
      throw err;
    }
    if (res.status !== 201 && res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new AuthenticationError(
        `Keystone at ${safeUrl(url)} refused the ${this.#opts.auth.type} credentials (HTTP ${res.status})`,
      );
    }
    const token = res.headers.get('x-subject-token');
    const body = (await res.json()) as { token?: Record<string, unknown> };
    if (!token || !body.token) throw new AuthenticationError('Keystone answered without a token');
    this.#token = token;
    this.#access = parseTokenBody(body.token);
    return this.#access;
  }

  #authBody(): Record<string, unknown> {
    const a = this.#opts.auth;
    const user = (id?: string, name?: string, domainId?: string, domainName?: string) =>
      id ? { id } : { name, domain: domainId ? { id: domainId } : { name: domainName ?? 'Default' } };
    let identity: Record<string, unknown>;
    if (a.type === 'password') {
      identity = {
        methods: ['password'],
        password: {
          user: { ...user(a.userId, a.username, a.userDomainId, a.userDomainName), password: a.password },
        },
      };
    } else if (a.type === 'token') {
      identity = { methods: ['token'], token: { id: a.token } };
    } else {
      identity = {
        methods: ['application_credential'],
        application_credential: a.id
          ? { id: a.id, secret: a.secret }
          : {
              name: a.name,
              secret: a.secret,
              user: user(a.userId, a.username, a.userDomainId, a.userDomainName),
            },
      };
    }
    const s = this.#opts.scope;
    let scope: unknown;
    if (a.type === 'application_credential' || !s) scope = undefined;
    else if (s.unscoped) scope = 'unscoped';
    else if (s.trustId) scope = { 'OS-TRUST:trust': { id: s.trustId } };
    else if (s.projectId) scope = { project: { id: s.projectId } };
    else if (s.projectName)
      scope = {
        project: {
          name: s.projectName,
          domain: s.projectDomainId ? { id: s.projectDomainId } : { name: s.projectDomainName ?? 'Default' },
        },
      };
    else if (s.domainId || s.domainName)
      scope = { domain: s.domainId ? { id: s.domainId } : { name: s.domainName } };
    else if (s.system) scope = { system: { all: true } };
    return { auth: { identity, ...(scope !== undefined ? { scope } : {}) } };
  }
}

/** The facts of a v3 token body (`body.token`), as both the session and token validation need them. */
export function parseTokenBody(t: Record<string, unknown>): AccessInfo {
  const o = (v: unknown) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
  const user = o(t.user);
  const project = t.project ? o(t.project) : undefined;
  const domain = t.domain ? o(t.domain) : undefined;
  const trust = t['OS-TRUST:trust'] ? o(t['OS-TRUST:trust']) : undefined;
  const appCred = t.application_credential ? o(t.application_credential) : undefined;
  return {
    expiresAt: new Date(String(t.expires_at)),
    issuedAt: new Date(String(t.issued_at ?? new Date().toISOString())),
    userId: String(user.id ?? ''),
    userName: user.name as string | undefined,
    userDomainId: o(user.domain).id as string | undefined,
    projectId: project?.id as string | undefined,
    projectName: project?.name as string | undefined,
    projectDomainId: project ? (o(project.domain).id as string | undefined) : undefined,
    domainId: domain?.id as string | undefined,
    system: o(t.system).all === true,
    roles: Array.isArray(t.roles) ? t.roles.map((r) => String(o(r).name)) : [],
    methods: Array.isArray(t.methods) ? t.methods.map(String) : [],
    auditIds: Array.isArray(t.audit_ids) ? t.audit_ids.map(String) : [],
    trustId: trust?.id as string | undefined,
    applicationCredentialId: appCred?.id as string | undefined,
    catalog: new ServiceCatalog(Array.isArray(t.catalog) ? (t.catalog as CatalogEntry[]) : []),
  };
}

function isStream(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    (typeof (body as { pipe?: unknown }).pipe === 'function' ||
      typeof (body as { getReader?: unknown }).getReader === 'function' ||
      (Symbol.asyncIterator in body && !(body instanceof Uint8Array)))
  );
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? 'network error';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Errors of calls to OpenStack services. They carry what an operator needs to
 * find the failed call in the other service's logs (service, method, URL,
 * status, message, request id) and nothing that authenticates: tokens and
 * passwords travel in headers and bodies, which are never copied in here,
 * and query strings are dropped from the URL.
 */

export class OpenStackError extends Error {
  override name = 'OpenStackError';
}

export interface HttpErrorDetails {
  service: string;
  method: string;
  url: string;
  status: number;
  /** The message the service put in its error body. */
  osMessage?: string;
  /** The callee's x-openstack-request-id (or x-compute-request-id / x-trans-id). */
  requestId?: string;
}

export class OpenStackHttpError extends OpenStackError {
  override name = 'OpenStackHttpError';
  readonly service: string;
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly osMessage?: string;
  readonly requestId?: string;

  constructor(d: HttpErrorDetails) {
    const url = safeUrl(d.url);
    super(
      `${d.service} ${d.method} ${url} returned ${d.status}` +
        (d.osMessage ? `: ${d.osMessage}` : '') +
        (d.requestId ? ` (request ${d.requestId})` : ''),
    );
    this.service = d.service;
    this.method = d.method;
    this.url = url;
    this.status = d.status;
    this.osMessage = d.osMessage;
    this.requestId = d.requestId;
  }

  /** 5xx and 429: worth retrying later. */
  get transient(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** The service could not be reached or did not answer in time. */
export class OpenStackConnectionError extends OpenStackError {
  override name = 'OpenStackConnectionError';
  constructor(
    readonly service: string,
    readonly method: string,
    url: string,
    readonly reason: string,
    readonly timedOut = false,
  ) {
    super(`${service} ${method} ${safeUrl(url)} failed: ${reason}`);
    this.url = safeUrl(url);
  }
  readonly url: string;
}

/** The catalog has no endpoint for a service type / interface / region. */
export class EndpointNotFound extends OpenStackError {
  override name = 'EndpointNotFound';
}

/** Authentication to Keystone failed (wrong credentials, expired trust, ...). */
export class AuthenticationError extends OpenStackError {
  override name = 'AuthenticationError';
}

/** Drops query string and userinfo: signed URLs and basic-auth URLs must not end up in logs. */
export function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return raw.split('?')[0];
  }
}

const MAX_MESSAGE = 512;

/**
 * The human message of an OpenStack error body:
 * Keystone/Heat `{"error": {"message"}}`, Nova/Cinder `{"itemNotFound": {"message", "code"}}`,
 * Neutron `{"NeutronError": {"type", "message", "detail"}}`, Glance/Swift plain text or HTML,
 * Heat also `{"explanation", "error": {...}}`.
 */
export function parseErrorMessage(body: string, contentType = ''): string | undefined {
  const text = body.trim();
  if (!text) return undefined;
  if (contentType.includes('json') || text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as unknown;
      const msg = messageFromJson(json);
      if (msg) return clip(msg);
    } catch {
      // fall through to text
    }
  }
  // HTML error pages (webob, Swift): keep the text content only.
  const plain = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain ? clip(plain) : undefined;
}

function messageFromJson(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as Record<string, unknown>;
  if (typeof o.message === 'string') return o.message;
  if (typeof o.error === 'object' && o.error !== null) {
    const e = o.error as Record<string, unknown>;
    if (typeof e.message === 'string') return e.message;
  }
  if (typeof o.error === 'string') return o.error;
  if (typeof o.NeutronError === 'object' && o.NeutronError !== null) {
    const e = o.NeutronError as Record<string, unknown>;
    if (typeof e.message === 'string') return e.message;
  }
  if (typeof o.explanation === 'string') return o.explanation;
  if (typeof o.title === 'string' && typeof o.description === 'string') return o.description;
  // Nova/Cinder: a single fault key ({"badRequest": {"message": ..., "code": 400}}).
  for (const v of Object.values(o)) {
    if (typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).message === 'string')
      return (v as Record<string, unknown>).message as string;
  }
  return undefined;
}

function clip(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}...` : s;
}

/** Fernet (`gAAAAA...`) and JWS (`eyJ...x.y.z`) tokens, which some services echo in messages. */
const TOKEN_PATTERNS = [/gAAAAA[A-Za-z0-9_=-]{40,}/g, /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g];

/**
 * Removes credentials from text taken from a response: every known secret
 * (the token sent, a password) and anything shaped like a token. Keystone's
 * "Could not find token: <token>" is why this exists.
 */
export function scrubSecrets(text: string, known: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of known) if (s && s.length >= 4) out = out.split(s).join('***');
  for (const re of TOKEN_PATTERNS) out = out.replace(re, '***');
  return out;
}

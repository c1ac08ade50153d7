import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/** The subset of `fetch` the CLI uses, so TLS options can swap the implementation. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface TlsOptions {
  cacert?: string;
  insecure?: boolean;
}

/**
 * Global fetch cannot take a CA bundle or skip verification without undici's
 * Agent, so when --os-cacert or --insecure is given the request goes through
 * node:https instead, wrapped back into a standard Response.
 */
export function createFetch(tls: TlsOptions): FetchLike {
  if (!tls.cacert && !tls.insecure) return (url, init) => fetch(url, init);
  const ca = tls.cacert ? readFileSync(tls.cacert) : undefined;
  return (url, init = {}) => nodeFetch(url, init, { ca, rejectUnauthorized: !tls.insecure });
}

function nodeFetch(
  url: string,
  init: RequestInit,
  tls: { ca?: Buffer; rejectUnauthorized: boolean },
): Promise<Response> {
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  const headers = new Headers(init.headers);
  const body = typeof init.body === 'string' ? init.body : undefined;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      {
        method: init.method ?? 'GET',
        headers: Object.fromEntries(headers.entries()),
        ...(target.protocol === 'https:' ? tls : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const responseHeaders = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) responseHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
          }
          const noBody = status === 204 || status === 304;
          resolve(
            new Response(noBody ? null : Buffer.concat(chunks), {
              status,
              statusText: res.statusMessage ?? '',
              headers: responseHeaders,
            }),
          );
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** An HTTP error from Keystone or Dragon, printed the way OpenStack clients print them. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }

  override toString(): string {
    const rid = this.requestId ? ` (Request-ID: ${this.requestId})` : '';
    return `${this.message} (HTTP ${this.status})${rid}`;
  }
}

/** Raised when the server cannot be reached at all (refused, DNS, TLS). */
export class ConnectionFailure extends Error {
  override name = 'ConnectionFailure';
}

/** Turn a non-2xx response into an HttpError using the OpenStack error body when there is one. */
export async function errorFromResponse(res: Response): Promise<HttpError> {
  const text = await res.text().catch(() => '');
  let message = res.statusText || `HTTP ${res.status}`;
  let requestId =
    res.headers.get('x-openstack-request-id') ?? res.headers.get('x-compute-request-id') ?? undefined;
  try {
    const body = JSON.parse(text) as { error?: { message?: string; request_id?: string } };
    if (body.error?.message) message = body.error.message;
    if (body.error?.request_id) requestId = body.error.request_id;
  } catch {
    // A proxy's HTML error page is noise; a short plain-text reason is worth showing.
    const plain = text.trim();
    if (plain && plain.length <= 200 && !plain.includes('<') && !plain.includes('\n')) message = plain;
  }
  return new HttpError(res.status, message, requestId);
}

/** Fetch, turning network failures into the "Unable to establish connection" message users know. */
export async function send(doFetch: FetchLike, url: string, init: RequestInit): Promise<Response> {
  try {
    return await doFetch(url, init);
  } catch (err) {
    const cause = (err as { cause?: { message?: string; code?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new ConnectionFailure(`Unable to establish connection to ${url}: ${reason}`);
  }
}

/** The one line an error is reported as: OSC's `message (HTTP n) (Request-ID: ...)` for HTTP errors. */
export function describeError(err: unknown): string {
  if (err instanceof HttpError) return err.toString();
  if (err instanceof Error) return err.message;
  return String(err);
}

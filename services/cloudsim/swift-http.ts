/**
 * The small pieces of Swift's HTTP manners the simulated proxy repeats
 * everywhere: HTML error bodies, transaction ids, metadata headers with
 * Swift's limits, timestamps in its three spellings, ranges, and listings
 * with prefix/delimiter/marker/limit.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { SwiftError } from './swift-store.js';

const TITLES: Record<number, [string, string]> = {
  400: [
    'Bad Request',
    'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  ],
  401: [
    'Unauthorized',
    'This server could not verify that you are authorized to access the document you requested.',
  ],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  411: ['Length Required', 'Length Required'],
  412: ['Precondition Failed', 'A precondition for this request was not met.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  416: ['Requested Range Not Satisfiable', 'The Range requested is not available.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
  499: ['Client Disconnect', 'The client was disconnected during request.'],
  500: ['Internal Error', 'An error occurred while processing the request.'],
};

export function statusLine(status: number): string {
  return `${status} ${TITLES[status]?.[0] ?? 'Error'}`;
}

/** Swift answers errors as a tiny HTML page (webob), or plain text when it explains (SLO, metadata). */
export function sendSwiftError(req: Request, res: Response, status: number, detail?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const [title, message] = TITLES[status] ?? ['Error', 'An error occurred.'];
  res.status(status);
  if (status === 401) res.set('WWW-Authenticate', 'Keystone uri="keystone"');
  if (req.method === 'HEAD') {
    res.set('Content-Length', '0').end();
    return;
  }
  if (detail) {
    res.type('text/plain; charset=UTF-8').send(detail);
    return;
  }
  res.type('text/html; charset=UTF-8').send(`<html><h1>${title}</h1><p>${message}</p></html>`);
}

/** `tx<21 hex>-<hex seconds>`, which Swift returns as both X-Trans-Id and X-Openstack-Request-Id. */
export function transId(): string {
  const hex = randomBytes(11).toString('hex').slice(0, 21);
  return `tx${hex}-${Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(10, '0')}`;
}

/** Last-Modified: the timestamp rounded up to the second, as an HTTP date. */
export function httpDate(ts: string): string {
  return new Date(Math.ceil(Number(ts)) * 1000).toUTCString();
}

/** Listings' `last_modified`: ISO 8601 with microseconds and no zone. */
export function listingDate(ts: string): string {
  const [sec, frac = '0'] = ts.split('.');
  const iso = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return `${iso}.${frac.padEnd(6, '0').slice(0, 6)}`;
}

/** Header names as Swift prints them: `X-Object-Meta-Color`. */
export function titleCase(name: string): string {
  return name
    .split('-')
    .map((p) => (p ? p[0].toUpperCase() + p.slice(1) : p))
    .join('-');
}

export const META_LIMITS = { nameLength: 128, valueLength: 256, count: 90, overall: 4096 };

/** User metadata headers (`x-<kind>-meta-*`) of a request; `x-remove-<kind>-meta-*` as removals. */
export function metaFromHeaders(req: Request, kind: 'account' | 'container' | 'object') {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  const prefix = `x-${kind}-meta-`;
  const removePrefix = `x-remove-${kind}-meta-`;
  for (const [k, v] of Object.entries(req.headers)) {
    const value = Array.isArray(v) ? v.join(',') : (v ?? '');
    if (k.startsWith(prefix) && k.length > prefix.length) set[k.slice(prefix.length)] = value;
    else if (k.startsWith(removePrefix)) remove.push(k.slice(removePrefix.length));
  }
  return { set, remove };
}

/** Swift's constraints.check_metadata: 400 with its message when a limit is crossed. */
export function checkMetadata(meta: Record<string, string>, kind: string): void {
  let size = 0;
  let count = 0;
  for (const [k, v] of Object.entries(meta)) {
    count++;
    size += k.length + v.length;
    if (k.length > META_LIMITS.nameLength)
      throw new SwiftError(400, `Metadata name too long: x-${kind}-meta-${k}; max ${META_LIMITS.nameLength}`);
    if (v.length > META_LIMITS.valueLength)
      throw new SwiftError(400, `Metadata value longer than ${META_LIMITS.valueLength}: x-${kind}-meta-${k}`);
  }
  if (count > META_LIMITS.count)
    throw new SwiftError(400, `Too many metadata items; max ${META_LIMITS.count}`);
  if (size > META_LIMITS.overall)
    throw new SwiftError(400, `Total metadata too large; max ${META_LIMITS.overall}`);
}

export function setMetaHeaders(res: Response, kind: string, meta: Record<string, string>): void {
  for (const [k, v] of Object.entries(meta)) res.set(`X-${titleCase(kind)}-Meta-${titleCase(k)}`, v);
}

/**
 * One byte range of `Range: bytes=...` (inclusive ends), `undefined` to
 * serve the whole object (no header, or several ranges, which Swift would
 * answer as multipart — not simulated), `'unsatisfiable'` for a 416.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined | 'unsatisfiable' {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

export interface ListingQuery {
  prefix: string;
  delimiter: string;
  marker: string;
  endMarker: string;
  limit: number;
  reverse: boolean;
}

export const LISTING_LIMIT = 10_000;

export function listingQuery(q: URLSearchParams): ListingQuery {
  const limitRaw = q.get('limit');
  const limit = limitRaw === null ? LISTING_LIMIT : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 0)
    throw new SwiftError(412, 'Value of limit must be a positive integer');
  if (limit > LISTING_LIMIT) throw new SwiftError(412, `Maximum limit is ${LISTING_LIMIT}`);
  return {
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') ?? '',
    marker: q.get('marker') ?? '',
    endMarker: q.get('end_marker') ?? '',
    limit,
    reverse: ['true', '1', 'yes', 'on'].includes((q.get('reverse') ?? '').toLowerCase()),
  };
}

/** A page of names (and `subdir` rollups under a delimiter), Swift's listing algorithm. */
export function listNames(
  all: Iterable<string>,
  q: ListingQuery,
): Array<{ name: string } | { subdir: string }> {
  let names = [...all].sort(byteOrder);
  if (q.reverse) names = names.reverse();
  const cmp = byteOrder;
  const after = (n: string) => !q.marker || (q.reverse ? cmp(n, q.marker) < 0 : cmp(n, q.marker) > 0);
  const before = (n: string) =>
    !q.endMarker || (q.reverse ? cmp(n, q.endMarker) > 0 : cmp(n, q.endMarker) < 0);
  const out: Array<{ name: string } | { subdir: string }> = [];
  let lastSubdir: string | undefined;
  for (const name of names) {
    if (out.length >= q.limit) break;
    if (!name.startsWith(q.prefix)) continue;
    if (!after(name)) continue;
    if (!before(name)) break;
    if (q.delimiter) {
      const i = name.indexOf(q.delimiter, q.prefix.length);
      if (i >= 0) {
        const subdir = name.slice(0, i + q.delimiter.length);
        if (subdir === lastSubdir || (q.marker && !q.reverse && cmp(subdir, q.marker) <= 0)) continue;
        lastSubdir = subdir;
        out.push({ subdir });
        continue;
      }
    }
    out.push({ name });
  }
  return out;
}

/** Swift sorts listings by UTF-8 bytes. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** JSON when `?format=json` or Accept asks for it; plain text otherwise (xml is answered as text). */
export function wantsJson(req: Request, q: URLSearchParams): boolean {
  const format = q.get('format');
  if (format) return format === 'json';
  return /application\/json/.test(req.get('Accept') ?? '');
}

/** Reads a small request body (manifests, bulk delete lists) with a size cap. */
export async function readSmallBody(req: Request, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new SwiftError(413, '');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

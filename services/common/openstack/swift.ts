/**
 * Swift (object-store API v1) client: the account of the session's project,
 * containers with metadata and ACLs, objects streamed both ways, Static
 * Large Objects above a segment size (segments in `<container>_segments`,
 * the layout python-swiftclient uses), bulk delete and server-side copy.
 * Bytes are never gathered in memory: uploads stream from the caller's
 * source through an md5 hash to the socket, downloads hand back the socket's
 * stream.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { PassThrough, Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Dispatcher, Response } from 'undici';
import type { EndpointInterface } from './catalog.js';
import { OpenStackConnectionError, OpenStackError, OpenStackHttpError } from './errors.js';
import type { KeystoneSession, RequestOptions } from './session.js';
import { streamUpload } from './stream-upload.js';

export const DEFAULT_SEGMENT_SIZE = 1024 * 1024 * 1024;

export interface SwiftClientOptions {
  region?: string;
  interface?: EndpointInterface;
  /** Objects larger than this are uploaded as an SLO. Default 1 GiB. */
  segmentSize?: number;
  /** Retries of a re-openable upload (file, Buffer) after 5xx or a dropped connection. Default 3. */
  uploadRetries?: number;
  retryDelayMs?: number;
  /** undici dispatcher for streamed uploads (TLS CA, proxies); the global one otherwise. */
  dispatcher?: Dispatcher;
}

export interface AccountInfo {
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
  metadata: Record<string, string>;
}

export interface ContainerInfo {
  name: string;
  objectCount: number;
  bytesUsed: number;
  metadata: Record<string, string>;
  /** Shown to the account's owners only. */
  read?: string;
  write?: string;
  storagePolicy?: string;
}

export interface ContainerListEntry {
  name: string;
  count: number;
  bytes: number;
  last_modified?: string;
}

/** An object of a listing; with a delimiter, rolled-up prefixes come as `{subdir}` entries instead. */
export interface ObjectListEntry {
  name: string;
  subdir?: string;
  hash: string;
  bytes: number;
  content_type: string;
  last_modified: string;
}

export interface ObjectInfo {
  name: string;
  /** Bytes as served (for an SLO the whole object). */
  size: number;
  /** md5 hex of the bytes; for an SLO the md5 of its segments' etags. */
  etag: string;
  contentType: string;
  lastModified?: string;
  timestamp?: string;
  metadata: Record<string, string>;
  staticLargeObject: boolean;
}

/**
 * Where upload bytes come from. A Buffer or string, a one-shot stream, or a
 * re-openable source (a file) that can be read again for a retry or by
 * ranges for segments.
 */
export type ObjectSource = Buffer | Uint8Array | string | Readable | ReopenableSource;

export interface ReopenableSource {
  size: number;
  /** A fresh stream of bytes [start, end) of the source. */
  open(start: number, end: number): Readable;
}

/** A file as an upload source (re-openable, so uploads of it are retried and segmented without copying). */
export function fileSource(path: string): ReopenableSource {
  const size = statSync(path).size;
  return {
    size,
    open: (start, end) =>
      end <= start
        ? Readable.from([])
        : createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20 }),
  };
}

export interface PutObjectOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Known size of a stream source; decides SLO up front (otherwise decided while streaming). */
  size?: number;
  segmentSize?: number;
  /** Container for segments; default `<container>_segments`. */
  segmentContainer?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface PutObjectResult {
  /** md5 hex of the bytes sent (for an SLO: of the whole object, computed while streaming). */
  md5: string;
  /** The ETag Swift returned (for an SLO: md5 of the segment etags). */
  etag: string;
  size: number;
  segments?: Array<{ path: string; etag: string; size_bytes: number }>;
}

export interface GetObjectResult {
  info: ObjectInfo;
  /** The bytes; read or destroy it. */
  stream: Readable;
  /** 206 when a range was served. */
  status: number;
  contentRange?: string;
}

export interface BulkDeleteResult {
  deleted: number;
  notFound: number;
  errors: Array<[string, string]>;
  status: string;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  /** Stop after this many entries (default: all pages). */
  limit?: number;
  marker?: string;
}

const PAGE = 10_000;

export class SwiftClient {
  readonly #session: KeystoneSession;
  readonly #opts: SwiftClientOptions;

  constructor(session: KeystoneSession, opts: SwiftClientOptions = {}) {
    this.#session = session;
    this.#opts = opts;
  }

  get segmentSize(): number {
    return this.#opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  }

  /** The account URL (`.../v1/AUTH_<project>`) from the catalog. */
  async accountUrl(): Promise<string> {
    return this.#session.endpointFor('object-store', {
      region: this.#opts.region,
      interface: this.#opts.interface,
    });
  }

  // ---- cluster and account ----------------------------------------------------------------

  /** GET /info: the cluster's capabilities (slo, bulk_delete, limits). */
  async info(): Promise<Record<string, unknown>> {
    const base = (await this.accountUrl()).replace(/\/v1(\/.*)?$/, '');
    return this.#session.requestJson('GET', `${base}/info`, {
      authenticated: false,
      serviceName: 'object-store',
    });
  }

  async accountInfo(): Promise<AccountInfo> {
    const res = await this.#call('HEAD', '');
    const h = res.headers;
    return {
      containerCount: Number(h.get('x-account-container-count') ?? 0),
      objectCount: Number(h.get('x-account-object-count') ?? 0),
      bytesUsed: Number(h.get('x-account-bytes-used') ?? 0),
      metadata: metaOf(h, 'account'),
    };
  }

  /** Sets (or with an empty value removes) account metadata items. */
  async setAccountMetadata(metadata: Record<string, string>): Promise<void> {
    await this.#call('POST', '', { headers: metaHeaders('account', metadata) });
  }

  async listContainers(opts: ListOptions = {}): Promise<ContainerListEntry[]> {
    return this.#listAll<ContainerListEntry>('', opts);
  }

  // ---- containers ---------------------------------------------------------------------------

  /** Creates the container (or updates it: PUT is idempotent); true when it was new. */
  async createContainer(
    name: string,
    opts: { metadata?: Record<string, string>; read?: string; write?: string } = {},
  ): Promise<boolean> {
    const headers: Record<string, string> = { ...metaHeaders('container', opts.metadata ?? {}) };
    if (opts.read !== undefined) headers['X-Container-Read'] = opts.read;
    if (opts.write !== undefined) headers['X-Container-Write'] = opts.write;
    const res = await this.#call('PUT', enc(name), { headers });
    return res.status === 201;
  }

  /** HEAD container; undefined when it does not exist. */
  async containerInfo(name: string): Promise<ContainerInfo | undefined> {
    const res = await this.#call('HEAD', enc(name), { allowStatus: [404] });
    if (res.status === 404) return undefined;
    const h = res.headers;
    return {
      name,
      objectCount: Number(h.get('x-container-object-count') ?? 0),
      bytesUsed: Number(h.get('x-container-bytes-used') ?? 0),
      metadata: metaOf(h, 'container'),
      read: h.get('x-container-read') ?? undefined,
      write: h.get('x-container-write') ?? undefined,
      storagePolicy: h.get('x-storage-policy') ?? undefined,
    };
  }

  /** Sets metadata items (an empty value removes one) and removes the names in `remove`. */
  async setContainerMetadata(
    name: string,
    metadata: Record<string, string>,
    remove: string[] = [],
  ): Promise<void> {
    const headers = metaHeaders('container', metadata);
    for (const k of remove) headers[`X-Remove-Container-Meta-${k}`] = 'x';
    await this.#call('POST', enc(name), { headers });
  }

  /**
   * Sets the container's ACLs (keystoneauth syntax: `<project id>:*`,
   * `<project>:<user>`, `.r:*,.rlistings`); an empty string clears one.
   */
  async setContainerAcl(name: string, acl: { read?: string; write?: string }): Promise<void> {
    const headers: Record<string, string> = {};
    if (acl.read !== undefined) {
      if (acl.read === '') headers['X-Remove-Container-Read'] = 'x';
      else headers['X-Container-Read'] = acl.read;
    }
    if (acl.write !== undefined) {
      if (acl.write === '') headers['X-Remove-Container-Write'] = 'x';
      else headers['X-Container-Write'] = acl.write;
    }
    await this.#call('POST', enc(name), { headers });
  }

  /** Deletes an empty container (409 OpenStackHttpError when it is not empty). */
  async deleteContainer(name: string): Promise<void> {
    await this.#call('DELETE', enc(name));
  }

  // ---- objects -----------------------------------------------------------------------------

  async listObjects(container: string, opts: ListOptions = {}): Promise<ObjectListEntry[]> {
    return this.#listAll<ObjectListEntry>(enc(container), opts);
  }

  /**
   * Uploads an object. Above the segment size the bytes go as segments of
   * that size into `<container>_segments` and then a manifest makes them one
   * object (SLO). Re-openable sources are retried on 5xx and dropped
   * connections; a one-shot stream cannot be replayed and fails instead.
   * A previous SLO's segments under the same name are deleted after the
   * new object is in place.
   */
  async putObject(
    container: string,
    name: string,
    source: ObjectSource,
    opts: PutObjectOptions = {},
  ): Promise<PutObjectResult> {
    const segmentSize = opts.segmentSize ?? this.segmentSize;
    const src = normaliseSource(source);
    const size = src.kind === 'reopenable' ? src.source.size : opts.size;
    const previous = await this.headObject(container, name);
    // An SLO being replaced leaves its segments behind unless they are deleted once the new object is in.
    const oldSegments = previous?.staticLargeObject ? await this.getManifest(container, name) : [];
    let result: PutObjectResult;
    if (size !== undefined && size <= segmentSize) {
      result =
        src.kind === 'reopenable'
          ? await this.#putWhole(container, name, src.source, opts)
          : await this.#putStream(container, name, src.stream, opts, size);
    } else {
      result = await this.#putSegmented(container, name, src, size, segmentSize, opts);
    }
    const kept = new Set((result.segments ?? []).map((x) => x.path));
    const stale = oldSegments.map((x) => x.path).filter((p) => !kept.has(p));
    if (stale.length > 0) await this.bulkDelete(stale);
    return result;
  }

  /** GET an object (an SLO comes back whole), optionally a byte range [start, end] inclusive. */
  async getObject(
    container: string,
    name: string,
    opts: { range?: { start: number; end?: number }; signal?: AbortSignal } = {},
  ): Promise<GetObjectResult> {
    const headers: Record<string, string> = {};
    if (opts.range) headers.Range = `bytes=${opts.range.start}-${opts.range.end ?? ''}`;
    const res = await this.#call('GET', objPath(container, name), { headers, signal: opts.signal });
    const stream = res.body
      ? Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>)
      : Readable.from([]);
    return {
      info: objectInfoOf(name, res),
      stream,
      status: res.status,
      contentRange: res.headers.get('content-range') ?? undefined,
    };
  }

  /** HEAD an object; undefined when it does not exist. */
  async headObject(container: string, name: string): Promise<ObjectInfo | undefined> {
    const res = await this.#call('HEAD', objPath(container, name), { allowStatus: [404] });
    if (res.status === 404) return undefined;
    return objectInfoOf(name, res);
  }

  /** An SLO's segment list (`?multipart-manifest=get&format=raw`). */
  async getManifest(
    container: string,
    name: string,
  ): Promise<Array<{ path: string; etag: string; size_bytes: number }>> {
    return this.#session.requestJson('GET', await this.#url(objPath(container, name)), {
      serviceName: 'object-store',
      query: { 'multipart-manifest': 'get', format: 'raw' },
    });
  }

  /** Replaces the object's metadata (Swift's POST replaces all X-Object-Meta-* items). */
  async setObjectMetadata(
    container: string,
    name: string,
    metadata: Record<string, string>,
    contentType?: string,
  ): Promise<void> {
    const headers = metaHeaders('object', metadata);
    if (contentType) headers['Content-Type'] = contentType;
    await this.#call('POST', objPath(container, name), { headers });
  }

  /** Deletes an object, and an SLO's segments with it. False when it did not exist. */
  async deleteObject(container: string, name: string): Promise<boolean> {
    const info = await this.headObject(container, name);
    if (!info) return false;
    if (info.staticLargeObject) {
      const res = await this.#call('DELETE', objPath(container, name), {
        query: { 'multipart-manifest': 'delete' },
      });
      const r = bulkResultOf(await res.json());
      if (r.errors.length > 0)
        throw new OpenStackError(
          `object-store: deleting SLO ${container}/${name} failed: ${r.errors.map((e) => e.join(' ')).join('; ')}`,
        );
      return true;
    }
    const res = await this.#call('DELETE', objPath(container, name), { allowStatus: [404] });
    return res.status !== 404;
  }

  /**
   * Deletes many objects (`container/object`) and containers (`container`)
   * with the bulk middleware, in requests of up to 10000 paths.
   */
  async bulkDelete(paths: string[]): Promise<BulkDeleteResult> {
    const total: BulkDeleteResult = { deleted: 0, notFound: 0, errors: [], status: '200 OK' };
    for (let i = 0; i < paths.length; i += PAGE) {
      const body = paths
        .slice(i, i + PAGE)
        .map((p) => `/${p.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')}`)
        .join('\n');
      const res = await this.#call('POST', '', {
        query: { 'bulk-delete': 'true' },
        body,
        headers: { 'Content-Type': 'text/plain' },
        retry: true,
      });
      const r = bulkResultOf(await res.json());
      total.deleted += r.deleted;
      total.notFound += r.notFound;
      total.errors.push(...r.errors);
      if (r.status !== '200 OK') total.status = r.status;
    }
    return total;
  }

  /** Server-side copy (PUT with X-Copy-From); an SLO source is copied as its whole bytes. */
  async copyObject(
    from: { container: string; name: string; account?: string },
    to: { container: string; name: string },
    opts: { metadata?: Record<string, string>; freshMetadata?: boolean; contentType?: string } = {},
  ): Promise<string> {
    const headers: Record<string, string> = {
      'X-Copy-From': `/${enc(from.container)}/${enc(from.name)}`,
      'Content-Length': '0',
      ...metaHeaders('object', opts.metadata ?? {}),
    };
    if (from.account) headers['X-Copy-From-Account'] = from.account;
    if (opts.freshMetadata) headers['X-Fresh-Metadata'] = 'true';
    if (opts.contentType) headers['Content-Type'] = opts.contentType;
    const res = await this.#call('PUT', objPath(to.container, to.name), { headers });
    return unquote(res.headers.get('etag') ?? '');
  }

  // ---- internals -------------------------------------------------------------------------------

  async #url(path: string): Promise<string> {
    const base = await this.accountUrl();
    return path ? `${base}/${path}` : base;
  }

  async #call(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    return this.#session.request(method, await this.#url(path), { serviceName: 'object-store', ...opts });
  }

  async #listAll<T extends { name?: string; subdir?: string }>(
    path: string,
    opts: ListOptions,
  ): Promise<T[]> {
    const out: T[] = [];
    let marker = opts.marker;
    for (;;) {
      const want = opts.limit === undefined ? PAGE : Math.min(PAGE, opts.limit - out.length);
      if (want <= 0) break;
      const page = await this.#session.requestJson<T[]>('GET', await this.#url(path), {
        serviceName: 'object-store',
        query: { format: 'json', limit: want, marker, prefix: opts.prefix, delimiter: opts.delimiter },
      });
      const items = page ?? [];
      out.push(...items);
      if (items.length < want) break;
      const last = items[items.length - 1];
      marker = last.name ?? last.subdir;
    }
    return out;
  }

  #objectHeaders(opts: PutObjectOptions): Record<string, string> {
    return {
      'Content-Type': opts.contentType ?? 'application/octet-stream',
      ...metaHeaders('object', opts.metadata ?? {}),
      ...(opts.headers ?? {}),
    };
  }

  /** One PUT from a re-openable source, retried on transient failures. */
  async #putWhole(
    container: string,
    name: string,
    src: ReopenableSource,
    opts: PutObjectOptions,
    start = 0,
    end = src.size,
    headers = this.#objectHeaders(opts),
  ): Promise<PutObjectResult> {
    const retries = this.#opts.uploadRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#putStream(
          container,
          name,
          src.open(start, end),
          { ...opts, headers },
          end - start,
        );
      } catch (err) {
        const transient =
          err instanceof OpenStackConnectionError || (err instanceof OpenStackHttpError && err.transient);
        if (!transient || attempt >= retries || opts.signal?.aborted) throw err;
        await new Promise((r) => setTimeout(r, (this.#opts.retryDelayMs ?? 500) * 2 ** attempt));
      }
    }
  }

  /** One PUT of a stream, hashing on the way and checking Swift's ETag against it. */
  async #putStream(
    container: string,
    name: string,
    stream: Readable,
    opts: PutObjectOptions,
    size?: number,
  ): Promise<PutObjectResult> {
    const md5 = createHash('md5');
    let sent = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        md5.update(chunk);
        sent += chunk.length;
        cb(null, chunk);
      },
    });
    stream.on('error', (e) => hashing.destroy(e));
    stream.pipe(hashing);
    const headers = { ...(opts.headers ?? this.#objectHeaders(opts)) };
    if (size !== undefined) headers['Content-Length'] = String(size);
    let res: { headers: Headers };
    try {
      res = await streamUpload(this.#session, 'PUT', await this.#url(objPath(container, name)), hashing, {
        serviceName: 'object-store',
        headers,
        signal: opts.signal,
        dispatcher: this.#opts.dispatcher,
      });
    } finally {
      stream.unpipe(hashing);
      if (!stream.destroyed) stream.destroy();
    }
    const digest = md5.digest('hex');
    const etag = unquote(res.headers.get('etag') ?? '');
    if (etag && etag !== digest)
      throw new OpenStackError(
        `object-store: ETag ${etag} of ${container}/${name} does not match the md5 ${digest} of the bytes sent`,
      );
    return { md5: digest, etag: etag || digest, size: sent };
  }

  async #putSegmented(
    container: string,
    name: string,
    src: NormalisedSource,
    size: number | undefined,
    segmentSize: number,
    opts: PutObjectOptions,
  ): Promise<PutObjectResult> {
    const segContainer = opts.segmentContainer ?? `${container}_segments`;
    await this.createContainer(segContainer);
    const prefix = `${name}/slo/${Date.now() / 1000}/${size ?? 'stream'}/${segmentSize}/`;
    const segments: Array<{ path: string; etag: string; size_bytes: number }> = [];
    const whole = createHash('md5');
    let total = 0;
    const segHeaders = { 'Content-Type': 'application/octet-stream' };
    const addSegment = (index: number, r: PutObjectResult) => {
      segments.push({ path: `/${segContainer}/${prefix}${pad(index)}`, etag: r.etag, size_bytes: r.size });
      total += r.size;
    };
    if (src.kind === 'reopenable') {
      const n = Math.max(1, Math.ceil(src.source.size / segmentSize));
      for (let i = 0; i < n; i++) {
        const start = i * segmentSize;
        const end = Math.min(src.source.size, start + segmentSize);
        const r = await this.#putWhole(
          segContainer,
          `${prefix}${pad(i)}`,
          src.source,
          opts,
          start,
          end,
          segHeaders,
        );
        // Hash the whole object from the same bytes: one more read of the source, never a copy in memory.
        for await (const chunk of src.source.open(start, end)) whole.update(chunk as Buffer);
        addSegment(i, r);
      }
    } else {
      let index = 0;
      for await (const part of splitStream(src.stream, segmentSize)) {
        const hashing = new Transform({
          transform(chunk: Buffer, _e, cb) {
            whole.update(chunk);
            cb(null, chunk);
          },
        });
        part.pipe(hashing);
        const r = await this.#putStream(segContainer, `${prefix}${pad(index)}`, hashing, {
          ...opts,
          headers: segHeaders,
        });
        addSegment(index++, r);
      }
      if (segments.length === 0) {
        const r = await this.#putStream(segContainer, `${prefix}${pad(0)}`, Readable.from([]), {
          ...opts,
          headers: segHeaders,
        });
        addSegment(0, r);
      }
      // A stream of unknown size that fitted in one segment becomes a plain object again.
      if (segments.length === 1 && size === undefined) {
        const seg = segments[0];
        const [, segName] = splitPath(seg.path);
        const etag = await this.copyObject(
          { container: segContainer, name: segName },
          { container, name },
          {
            metadata: opts.metadata,
            freshMetadata: true,
            contentType: opts.contentType ?? 'application/octet-stream',
          },
        );
        await this.#call('DELETE', objPath(segContainer, segName), { allowStatus: [404] });
        return { md5: whole.digest('hex'), etag, size: total };
      }
    }
    const res = await this.#call('PUT', objPath(container, name), {
      query: { 'multipart-manifest': 'put' },
      json: segments,
      headers: this.#objectHeaders(opts),
    });
    await res.body?.cancel().catch(() => {});
    return {
      md5: whole.digest('hex'),
      etag: unquote(res.headers.get('etag') ?? ''),
      size: total,
      segments,
    };
  }
}

// ---- helpers ------------------------------------------------------------------------------------

type NormalisedSource =
  | { kind: 'reopenable'; source: ReopenableSource }
  | { kind: 'stream'; stream: Readable };

function normaliseSource(source: ObjectSource): NormalisedSource {
  if (typeof source === 'string' || source instanceof Uint8Array) {
    const buf =
      typeof source === 'string'
        ? Buffer.from(source)
        : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return {
      kind: 'reopenable',
      source: { size: buf.length, open: (s, e) => Readable.from([buf.subarray(s, e)]) },
    };
  }
  if (source instanceof Readable) return { kind: 'stream', stream: source };
  return { kind: 'reopenable', source };
}

/**
 * Cuts a stream into consecutive sub-streams of `size` bytes, each produced
 * only while the previous one has been consumed, so at most a chunk or two
 * is held at a time.
 */
async function* splitStream(input: Readable, size: number): AsyncGenerator<Readable> {
  const iterator = input[Symbol.asyncIterator]();
  let pending: Buffer | undefined;
  let done = false;
  const next = async (): Promise<Buffer | undefined> => {
    if (pending) {
      const p = pending;
      pending = undefined;
      return p;
    }
    if (done) return undefined;
    const r = await iterator.next();
    if (r.done) {
      done = true;
      return undefined;
    }
    return Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
  };
  for (;;) {
    const first = await next();
    if (!first || first.length === 0) {
      if (!first) return;
      continue;
    }
    pending = first;
    const part = new PassThrough({ highWaterMark: 1 << 20 });
    const finished = (async () => {
      let left = size;
      while (left > 0) {
        const chunk = await next();
        if (!chunk) break;
        const take = chunk.subarray(0, left);
        if (chunk.length > left) pending = chunk.subarray(left);
        left -= take.length;
        if (!part.write(take)) await new Promise<void>((r) => part.once('drain', r));
      }
      part.end();
    })().catch((e) => part.destroy(e as Error));
    yield part;
    await finished;
  }
}

function pad(i: number): string {
  return String(i).padStart(8, '0');
}

function enc(name: string): string {
  return encodeURIComponent(name);
}

function objPath(container: string, name: string): string {
  return `${enc(container)}/${name.split('/').map(encodeURIComponent).join('/')}`;
}

function splitPath(path: string): [string, string] {
  const p = path.replace(/^\/+/, '');
  const i = p.indexOf('/');
  return [p.slice(0, i), p.slice(i + 1)];
}

function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}

function metaHeaders(
  kind: 'account' | 'container' | 'object',
  meta: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) out[`X-${kind[0].toUpperCase()}${kind.slice(1)}-Meta-${k}`] = v;
  return out;
}

function metaOf(h: Headers | Response['headers'], kind: string): Record<string, string> {
  const prefix = `x-${kind}-meta-`;
  const out: Record<string, string> = {};
  h.forEach((value, key) => {
    if (key.toLowerCase().startsWith(prefix)) out[key.slice(prefix.length).toLowerCase()] = value;
  });
  return out;
}

function objectInfoOf(name: string, res: Response): ObjectInfo {
  const h = res.headers;
  const range = h.get('content-range');
  const total = range ? Number(range.split('/')[1]) : Number(h.get('content-length') ?? 0);
  return {
    name,
    size: total,
    etag: unquote(h.get('etag') ?? ''),
    contentType: h.get('content-type') ?? 'application/octet-stream',
    lastModified: h.get('last-modified') ?? undefined,
    timestamp: h.get('x-timestamp') ?? undefined,
    metadata: metaOf(h, 'object'),
    staticLargeObject: /^true$/i.test(h.get('x-static-large-object') ?? ''),
  };
}

function bulkResultOf(body: unknown): BulkDeleteResult {
  const b = (body ?? {}) as Record<string, unknown>;
  return {
    deleted: Number(b['Number Deleted'] ?? 0),
    notFound: Number(b['Number Not Found'] ?? 0),
    errors: (b.Errors as Array<[string, string]>) ?? [],
    status: String(b['Response Status'] ?? '200 OK'),
  };
}

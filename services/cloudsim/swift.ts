/**
 * Simulated Swift (object-store) of one site: the proxy's API for
 * per-project accounts `AUTH_<project id>`, containers with metadata and
 * ACLs, objects streamed to and from disk with md5 ETags and ranges, Static
 * Large Objects, bulk delete and `/info` — with keystoneauth's rules (the
 * project's members and admins own its account; others get in only through
 * container ACLs). Dragon's bank is this service at the backup site.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import express, { type Request, type Response } from 'express';
import type { ObjectStoreApi } from './contracts.js';
import type { ServiceFactory, SiteContext } from './site.js';
import { type AclSubject, readAllowed, validAcl, writeAllowed } from './swift-acl.js';
import {
  checkMetadata,
  httpDate,
  LISTING_LIMIT,
  listingDate,
  listingQuery,
  listNames,
  metaFromHeaders,
  parseRange,
  readSmallBody,
  sendSwiftError,
  setMetaHeaders,
  statusLine,
  transId,
  wantsJson,
} from './swift-http.js';
import { type ObjectRecord, type SloSegment, SwiftError, SwiftStore } from './swift-store.js';

export const SLO_MAX_SEGMENTS = 1000;
export const SLO_MAX_MANIFEST_SIZE = 8 * 1024 * 1024;
export const BULK_MAX_DELETES = 10_000;
export const MAX_FILE_SIZE = 5 * 1024 * 1024 * 1024 + 2;
const OPERATOR_ROLES = ['admin', 'member'];
const RESELLER_ADMIN_ROLE = 'ResellerAdmin';

interface Caller extends AclSubject {
  roles: string[];
}

interface Target {
  account: string;
  container?: string;
  object?: string;
  query: URLSearchParams;
}

export interface SwiftService extends ObjectStoreApi {
  store: SwiftStore;
}

export const swiftService: ServiceFactory = (site: SiteContext): SwiftService => {
  const store = new SwiftStore(join(site.dataDir, 'swift'));
  const router = express.Router();

  router.get('/info', (_req, res) => {
    res.json(infoDocument());
  });
  router.get('/healthcheck', (_req, res) => {
    res.type('text/plain').send('OK');
  });

  router.use(async (req: Request, res: Response) => {
    const id = transId();
    res.set('X-Trans-Id', id);
    res.set('X-Openstack-Request-Id', id);
    res.removeHeader('x-compute-request-id');
    try {
      const target = parsePath(req);
      if (!target) return sendSwiftError(req, res, 404);
      const caller = await identify(req);
      if (caller === 'invalid') return sendSwiftError(req, res, 401);
      await dispatch(req, res, target, caller);
    } catch (err) {
      if (err instanceof SwiftError) {
        const detail = err.status === 400 || err.status === 412 ? err.message : undefined;
        return sendSwiftError(req, res, err.status, detail);
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendSwiftError(req, res, (err as { code?: string }).code === 'ECONNRESET' ? 499 : 500);
    }
  });

  // ---- who is asking --------------------------------------------------------------------------

  async function identify(req: Request): Promise<Caller | undefined | 'invalid'> {
    const token = req.get('X-Auth-Token') ?? req.get('X-Storage-Token');
    if (!token) return undefined;
    try {
      const { user, project, roles } = site.tokens.resolve(await site.tokens.verify(token));
      if (!project) return 'invalid';
      return {
        userId: user.id,
        userName: user.name,
        projectId: project.id,
        projectName: project.name,
        roles: roles.map((r) => r.name),
      };
    } catch {
      return 'invalid';
    }
  }

  /** keystoneauth: an operator role in the account's project, or the reseller admin. */
  function isOwner(caller: Caller | undefined, account: string): boolean {
    if (!caller) return false;
    if (caller.roles.includes(RESELLER_ADMIN_ROLE)) return true;
    return account === `AUTH_${caller.projectId}` && caller.roles.some((r) => OPERATOR_ROLES.includes(r));
  }

  function deny(caller: Caller | undefined): never {
    throw new SwiftError(caller ? 403 : 401, '');
  }

  function authorize(req: Request, t: Target, caller: Caller | undefined, method = req.method): void {
    if (isOwner(caller, t.account)) return;
    if (!t.container) deny(caller);
    const c = store.container(t.account, t.container);
    const referer = req.get('Referer');
    const reading = method === 'GET' || method === 'HEAD';
    if (!t.object) {
      if (reading && c && readAllowed(c.read, caller, referer, true)) return;
      deny(caller);
    }
    if (reading && c && readAllowed(c.read, caller, referer, false)) return;
    if (!reading && c && writeAllowed(c.write, caller)) return;
    deny(caller);
  }

  // ---- routing ----------------------------------------------------------------------------------

  function parsePath(req: Request): Target | undefined {
    const url = new URL(req.originalUrl, 'http://swift');
    const parts = url.pathname.split('/');
    if (parts[1] !== 'v1' || !parts[2]) return undefined;
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new SwiftError(412, 'Invalid UTF8 or contains NULL');
      }
    };
    const account = dec(parts[2]);
    if (!account.startsWith('AUTH_')) return undefined;
    const container = parts[3] ? dec(parts[3]) : undefined;
    const objectRaw = parts.length > 4 ? parts.slice(4).join('/') : '';
    const object = objectRaw ? dec(objectRaw) : undefined;
    return { account, container, object, query: url.searchParams };
  }

  async function dispatch(req: Request, res: Response, t: Target, caller: Caller | undefined) {
    const m = req.method;
    if (t.container === undefined) {
      authorize(req, t, caller);
      if (m === 'HEAD' || m === 'GET') return accountGet(req, res, t, caller);
      if (m === 'POST' && t.query.has('bulk-delete')) return bulkDelete(req, res, t, caller);
      if (m === 'POST') return accountPost(req, res, t);
      throw new SwiftError(405, '');
    }
    if (t.object === undefined) {
      authorize(req, t, caller);
      if (m === 'HEAD' || m === 'GET') return containerGet(req, res, t, caller);
      if (m === 'PUT') return containerPut(req, res, t);
      if (m === 'POST') return containerPost(req, res, t);
      if (m === 'DELETE') return containerDelete(req, res, t);
      throw new SwiftError(405, '');
    }
    authorize(req, t, caller, m === 'COPY' ? 'GET' : m);
    if (m === 'HEAD' || m === 'GET') return objectGet(req, res, t);
    if (m === 'PUT') return objectPut(req, res, t, caller);
    if (m === 'COPY') return objectCopyMethod(req, res, t, caller);
    if (m === 'POST') return objectPost(req, res, t);
    if (m === 'DELETE') return objectDelete(req, res, t);
    throw new SwiftError(405, '');
  }

  // ---- accounts ---------------------------------------------------------------------------------

  function accountStats(account: string) {
    const a = store.account(account);
    let objects = 0;
    let bytes = 0;
    for (const c of a.containers.values()) {
      objects += c.objects.size;
      for (const o of c.objects.values()) bytes += storedBytes(o);
    }
    return { a, objects, bytes };
  }

  function accountGet(req: Request, res: Response, t: Target, _caller: Caller | undefined) {
    const { a, objects, bytes } = accountStats(t.account);
    res.set({
      'X-Account-Container-Count': String(a.containers.size),
      'X-Account-Object-Count': String(objects),
      'X-Account-Bytes-Used': String(bytes),
      'X-Timestamp': a.timestamp,
      'X-Put-Timestamp': a.timestamp,
    });
    setMetaHeaders(res, 'account', a.meta);
    const json = wantsJson(req, t.query);
    if (req.method === 'HEAD') {
      res.status(204).end();
      return;
    }
    const entries = listNames(a.containers.keys(), listingQuery(t.query)).map((e) => {
      if ('subdir' in e) return e;
      const c = a.containers.get(e.name)!;
      let b = 0;
      for (const o of c.objects.values()) b += storedBytes(o);
      return { name: c.name, count: c.objects.size, bytes: b, last_modified: listingDate(c.timestamp) };
    });
    sendListing(res, json, entries);
  }

  function accountPost(req: Request, res: Response, t: Target) {
    const a = store.account(t.account);
    const meta = applyMeta(a.meta, metaFromHeaders(req, 'account'), 'account');
    a.meta = meta;
    store.saveAccount(a);
    res.status(204).end();
  }

  // ---- containers -------------------------------------------------------------------------------

  function containerStats(t: Target) {
    const c = store.container(t.account, t.container!);
    if (!c) throw new SwiftError(404, '');
    let bytes = 0;
    for (const o of c.objects.values()) bytes += storedBytes(o);
    return { c, bytes };
  }

  function containerGet(req: Request, res: Response, t: Target, caller: Caller | undefined) {
    const { c, bytes } = containerStats(t);
    res.set({
      'X-Container-Object-Count': String(c.objects.size),
      'X-Container-Bytes-Used': String(bytes),
      'X-Timestamp': c.timestamp,
      'X-Put-Timestamp': c.timestamp,
      'Last-Modified': httpDate(c.timestamp),
      'X-Storage-Policy': 'Policy-0',
    });
    setMetaHeaders(res, 'container', c.meta);
    // ACLs are shown to the account's owners only, as keystoneauth does.
    if (isOwner(caller, t.account)) {
      if (c.read) res.set('X-Container-Read', c.read);
      if (c.write) res.set('X-Container-Write', c.write);
    }
    if (req.method === 'HEAD') {
      res.status(204).end();
      return;
    }
    const json = wantsJson(req, t.query);
    const entries = listNames(c.objects.keys(), listingQuery(t.query)).map((e) => {
      if ('subdir' in e) return e;
      const o = c.objects.get(e.name)!;
      return {
        name: o.name,
        hash: o.hash,
        bytes: o.bytes,
        content_type: o.contentType,
        last_modified: listingDate(o.timestamp),
        ...(o.slo ? { slo_etag: `"${o.hash}"` } : {}),
      };
    });
    sendListing(res, json, entries);
  }

  function sendListing(res: Response, json: boolean, entries: Array<Record<string, unknown>>) {
    if (json) {
      res.status(200).type('application/json; charset=utf-8').send(JSON.stringify(entries));
      return;
    }
    if (entries.length === 0) {
      res.status(204).end();
      return;
    }
    const text = entries.map((e) => `${(e.subdir ?? e.name) as string}\n`).join('');
    res.status(200).type('text/plain; charset=utf-8').send(text);
  }

  function readAcls(req: Request) {
    const read = req.get('X-Container-Read');
    const write = req.get('X-Container-Write');
    if (read !== undefined && read !== '' && !validAcl(read, 'read'))
      throw new SwiftError(400, 'Error parsing ACL: X-Container-Read');
    if (write !== undefined && write !== '' && !validAcl(write, 'write'))
      throw new SwiftError(400, 'Error parsing ACL: X-Container-Write');
    return { read, write };
  }

  function containerPut(req: Request, res: Response, t: Target) {
    const name = t.container!;
    if (name.length > 256) throw new SwiftError(400, 'Container name length of 257 longer than 256');
    const acls = readAcls(req);
    const changes = metaFromHeaders(req, 'container');
    const existing = store.container(t.account, name);
    const meta = applyMeta(existing?.meta ?? {}, changes, 'container');
    const { container, created } = store.createContainer(t.account, name);
    container.meta = meta;
    if (acls.read !== undefined) container.read = acls.read || undefined;
    if (acls.write !== undefined) container.write = acls.write || undefined;
    store.saveContainer(t.account, container);
    res.status(created ? 201 : 202).end();
  }

  function containerPost(req: Request, res: Response, t: Target) {
    const { c } = containerStats(t);
    const acls = readAcls(req);
    c.meta = applyMeta(c.meta, metaFromHeaders(req, 'container'), 'container');
    if (acls.read !== undefined) c.read = acls.read || undefined;
    if (acls.write !== undefined) c.write = acls.write || undefined;
    if (req.get('X-Remove-Container-Read') !== undefined) c.read = undefined;
    if (req.get('X-Remove-Container-Write') !== undefined) c.write = undefined;
    store.saveContainer(t.account, c);
    res.status(204).end();
  }

  function containerDelete(_req: Request, res: Response, t: Target) {
    store.deleteContainer(t.account, t.container!);
    res.status(204).end();
  }

  // ---- objects ----------------------------------------------------------------------------------

  function mustGetObject(t: Target): ObjectRecord {
    if (!store.container(t.account, t.container!)) throw new SwiftError(404, '');
    const o = store.object(t.account, t.container!, t.object!);
    if (!o) throw new SwiftError(404, '');
    return o;
  }

  function objectHeaders(res: Response, o: ObjectRecord) {
    // setHeader: Express's res.set would append a charset to text types the client did not send.
    res.setHeader('Content-Type', o.contentType);
    res.set({
      ETag: o.slo ? `"${o.hash}"` : o.hash,
      'Last-Modified': httpDate(o.timestamp),
      'X-Timestamp': o.timestamp,
      'Accept-Ranges': 'bytes',
    });
    if (o.slo) res.set('X-Static-Large-Object', 'True');
    setMetaHeaders(res, 'object', o.meta);
  }

  async function objectGet(req: Request, res: Response, t: Target) {
    const o = mustGetObject(t);
    if (o.slo && t.query.get('multipart-manifest') === 'get') return manifestGet(req, res, t, o);
    const segments = o.slo ? resolveSegments(t.account, t.container!, o) : undefined;
    objectHeaders(res, o);
    const ifNoneMatch = req.get('If-None-Match');
    if (
      ifNoneMatch &&
      (ifNoneMatch === '*' || ifNoneMatch.replaceAll('"', '').split(/,\s*/).includes(o.hash))
    ) {
      res.status(304).end();
      return;
    }
    const range = parseRange(req.get('Range'), o.bytes);
    if (range === 'unsatisfiable') {
      res.set('Content-Range', `bytes */${o.bytes}`);
      throw new SwiftError(416, '');
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? o.bytes - 1;
    res.status(range ? 206 : 200);
    if (range) res.set('Content-Range', `bytes ${start}-${end}/${o.bytes}`);
    res.set('Content-Length', String(Math.max(0, end - start + 1)));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (o.bytes === 0) {
      res.end();
      return;
    }
    const body = segments
      ? Readable.from(sloBytes(t.account, segments, start, end))
      : store.readStored(t.account, t.container!, o, start, end);
    await pipeStream(body, res);
  }

  function manifestGet(req: Request, res: Response, t: Target, o: ObjectRecord) {
    const text = store.readStoredText(t.account, t.container!, o);
    const manifest = JSON.parse(text) as SloSegment[];
    const body =
      t.query.get('format') === 'raw'
        ? JSON.stringify(manifest.map((s) => ({ path: s.name, etag: s.hash, size_bytes: s.bytes })))
        : text;
    res.set({
      'Content-Type': 'application/json; charset=utf-8',
      ETag: createHash('md5').update(body).digest('hex'),
      'Last-Modified': httpDate(o.timestamp),
      'X-Timestamp': o.timestamp,
      'X-Static-Large-Object': 'True',
      'Content-Length': String(Buffer.byteLength(body)),
    });
    setMetaHeaders(res, 'object', o.meta);
    res.status(200);
    if (req.method === 'HEAD') res.end();
    else res.end(body);
  }

  /** The segments of a manifest, each checked present (a missing one is Swift's 409 at GET time). */
  function resolveSegments(account: string, container: string, o: ObjectRecord) {
    const manifest = JSON.parse(store.readStoredText(account, container, o)) as SloSegment[];
    return manifest.map((s) => {
      const { container, object } = splitSegmentPath(s.name);
      const rec = store.object(account, container, object);
      if (!rec || rec.slo || rec.bytes !== s.bytes) throw new SwiftError(409, '');
      return { container, rec };
    });
  }

  async function* sloBytes(
    account: string,
    segments: Array<{ container: string; rec: ObjectRecord }>,
    start: number,
    end: number,
  ): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const s of segments) {
      const segStart = offset;
      const segEnd = offset + s.rec.bytes - 1;
      offset += s.rec.bytes;
      if (segEnd < start || s.rec.bytes === 0) continue;
      if (segStart > end) break;
      const from = Math.max(start, segStart) - segStart;
      const to = Math.min(end, segEnd) - segStart;
      for await (const chunk of store.readStored(account, s.container, s.rec, from, to))
        yield chunk as Buffer;
    }
  }

  async function objectPut(req: Request, res: Response, t: Target, caller: Caller | undefined) {
    if (t.object!.length > 1024)
      throw new SwiftError(400, `Object name length of ${t.object!.length} longer than 1024`);
    if (!store.container(t.account, t.container!)) throw new SwiftError(404, '');
    const copyFrom = req.get('X-Copy-From');
    if (copyFrom) {
      const fromAccount = req.get('X-Copy-From-Account') ?? t.account;
      return copyObject(req, res, caller, { account: fromAccount, path: copyFrom }, t);
    }
    const length = req.get('Content-Length');
    const chunked = /chunked/i.test(req.get('Transfer-Encoding') ?? '');
    if (length === undefined && !chunked) throw new SwiftError(411, '');
    if (length !== undefined && Number(length) > MAX_FILE_SIZE) throw new SwiftError(413, '');
    if (req.get('If-None-Match') === '*' && store.object(t.account, t.container!, t.object!))
      throw new SwiftError(412, '');
    const changes = metaFromHeaders(req, 'object');
    checkMetadata(changes.set, 'object');
    if (t.query.get('multipart-manifest') === 'put') return sloPut(req, res, t, changes.set);
    const rec = await store.writeObject(t.account, t.container!, t.object!, req, {
      contentType: contentTypeOf(req, t.object!),
      meta: changes.set,
      expectedMd5: unquote(req.get('ETag')),
      expectedLength: length === undefined ? undefined : Number(length),
    });
    putResponse(res, rec);
  }

  function putResponse(res: Response, rec: ObjectRecord) {
    res.status(201).set({
      ETag: rec.slo ? `"${rec.hash}"` : rec.hash,
      'Last-Modified': httpDate(rec.timestamp),
      'Content-Type': 'text/html; charset=UTF-8',
      'Content-Length': '0',
    });
    res.end();
  }

  async function sloPut(req: Request, res: Response, t: Target, meta: Record<string, string>) {
    const text = await readSmallBody(req, SLO_MAX_MANIFEST_SIZE);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SwiftError(400, 'Manifest must be valid JSON.\n');
    }
    if (!Array.isArray(parsed)) throw new SwiftError(400, 'Manifest must be a list.\n');
    if (parsed.length === 0) throw new SwiftError(400, 'Manifest must have at least one segment.\n');
    if (parsed.length > SLO_MAX_SEGMENTS)
      throw new SwiftError(400, `Too many segments in manifest; max ${SLO_MAX_SEGMENTS}.\n`);
    const problems: string[] = [];
    const segments: SloSegment[] = [];
    for (const [i, item] of parsed.entries()) {
      const seg = item as { path?: unknown; etag?: unknown; size_bytes?: unknown };
      if (typeof seg?.path !== 'string' || !seg.path.replace(/^\//, '').includes('/')) {
        problems.push(`Index ${i}: "path" must be a string of the form "container/object"`);
        continue;
      }
      const path = seg.path.startsWith('/') ? seg.path : `/${seg.path}`;
      const { container, object } = splitSegmentPath(path);
      const rec = store.object(t.account, container, object);
      if (!rec) {
        problems.push(`${path}, 404 Not Found`);
        continue;
      }
      if (rec.slo) {
        problems.push(`${path}, Nested SLO manifests are not simulated`);
        continue;
      }
      if (seg.etag !== undefined && seg.etag !== null && unquote(String(seg.etag)) !== rec.hash)
        problems.push(`${path}, Etag Mismatch`);
      if (seg.size_bytes !== undefined && seg.size_bytes !== null && Number(seg.size_bytes) !== rec.bytes)
        problems.push(`${path}, Size Mismatch`);
      if (rec.bytes < 1 && i < parsed.length - 1)
        problems.push(`${path}, Too small; each segment must be at least 1 byte.`);
      segments.push({
        name: path,
        hash: rec.hash,
        bytes: rec.bytes,
        content_type: rec.contentType,
        last_modified: listingDate(rec.timestamp),
      });
    }
    if (problems.length > 0) throw new SwiftError(400, `Errors:\n${problems.join('\n')}\n`);
    const sloEtag = createHash('md5')
      .update(segments.map((s) => s.hash).join(''))
      .digest('hex');
    const wanted = unquote(req.get('ETag'));
    if (wanted && wanted !== sloEtag) throw new SwiftError(422, '');
    const total = segments.reduce((n, s) => n + s.bytes, 0);
    const rec = await store.writeObject(
      t.account,
      t.container!,
      t.object!,
      Buffer.from(JSON.stringify(segments)),
      {
        contentType: contentTypeOf(req, t.object!),
        meta,
        slo: { bytes: total, hash: sloEtag },
      },
    );
    putResponse(res, rec);
  }

  async function copyObject(
    req: Request,
    res: Response,
    caller: Caller | undefined,
    from: { account: string; path: string },
    to: Target,
  ) {
    const raw = from.path.startsWith('/') ? from.path : `/${from.path}`;
    const { container, object } = splitSegmentPath(safeDecode(raw));
    const src: Target = { account: from.account, container, object, query: new URLSearchParams() };
    authorize(req, src, caller, 'GET');
    const o = mustGetObject(src);
    const changes = metaFromHeaders(req, 'object');
    const fresh = /^(true|1|yes)$/i.test(req.get('X-Fresh-Metadata') ?? '');
    const meta = { ...(fresh ? {} : o.meta), ...changes.set };
    checkMetadata(meta, 'object');
    const keepManifest = o.slo && to.query.get('multipart-manifest') === 'get';
    const body = keepManifest
      ? store.readStored(src.account, container, o)
      : o.slo
        ? Readable.from(sloBytes(src.account, resolveSegments(src.account, container, o), 0, o.bytes - 1))
        : store.readStored(src.account, container, o);
    const rec = await store.writeObject(to.account, to.container!, to.object!, body, {
      contentType: req.get('Content-Type') ?? o.contentType,
      meta,
      ...(keepManifest ? { slo: { bytes: o.bytes, hash: o.hash } } : {}),
    });
    res.set('X-Copied-From', `${encodeURIComponent(container)}/${encodeURIComponent(object)}`);
    res.set('X-Copied-From-Last-Modified', httpDate(o.timestamp));
    if (from.account !== to.account) res.set('X-Copied-From-Account', from.account);
    putResponse(res, rec);
  }

  async function objectCopyMethod(req: Request, res: Response, t: Target, caller: Caller | undefined) {
    const destination = req.get('Destination');
    if (!destination) throw new SwiftError(412, 'You must specify a Destination header');
    const dest = splitSegmentPath(safeDecode(destination.startsWith('/') ? destination : `/${destination}`));
    const account = req.get('Destination-Account') ?? t.account;
    const to: Target = { account, container: dest.container, object: dest.object, query: t.query };
    authorize(req, to, caller, 'PUT');
    if (!store.container(to.account, to.container!)) throw new SwiftError(404, '');
    await copyObject(req, res, caller, { account: t.account, path: `/${t.container}/${t.object}` }, to);
  }

  async function objectPost(req: Request, res: Response, t: Target) {
    const o = mustGetObject(t);
    const { set } = metaFromHeaders(req, 'object');
    checkMetadata(set, 'object');
    // A POST replaces all user metadata of an object (Swift's fast-POST semantics).
    o.meta = set;
    const ct = req.get('Content-Type');
    if (ct) o.contentType = ct;
    await store.updateObject(t.account, t.container!, o);
    res.status(202).type('text/html; charset=UTF-8');
    res.send('<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>');
  }

  async function objectDelete(req: Request, res: Response, t: Target) {
    if (t.query.get('multipart-manifest') === 'delete') return sloDelete(req, res, t);
    mustGetObject(t);
    store.deleteObject(t.account, t.container!, t.object!);
    res.status(204).end();
  }

  function sloDelete(req: Request, res: Response, t: Target) {
    const path = `/${t.container}/${t.object}`;
    const result = newBulkResult();
    const o = store.object(t.account, t.container!, t.object!);
    if (!o) {
      result.notFound++;
      result.status = statusLine(404);
    } else if (!o.slo) {
      result.errors.push([path, 'Not an SLO manifest']);
      result.status = statusLine(400);
    } else {
      const manifest = JSON.parse(store.readStoredText(t.account, t.container!, o)) as SloSegment[];
      for (const s of manifest) {
        const seg = splitSegmentPath(s.name);
        if (store.deleteObject(t.account, seg.container, seg.object)) result.deleted++;
        else result.notFound++;
      }
      store.deleteObject(t.account, t.container!, t.object!);
      result.deleted++;
    }
    sendBulkResult(req, res, result);
  }

  // ---- bulk delete ------------------------------------------------------------------------------

  function newBulkResult() {
    return { deleted: 0, notFound: 0, errors: [] as Array<[string, string]>, status: '200 OK' };
  }

  function sendBulkResult(req: Request, res: Response, r: ReturnType<typeof newBulkResult>) {
    if (r.errors.length > 0 && r.status === '200 OK') r.status = statusLine(400);
    const json = /application\/json/.test(req.get('Accept') ?? '');
    res.status(200);
    if (json) {
      res.type('application/json; charset=utf-8').send(
        JSON.stringify({
          'Number Deleted': r.deleted,
          'Number Not Found': r.notFound,
          'Response Body': '',
          'Response Status': r.status,
          Errors: r.errors,
        }),
      );
      return;
    }
    res
      .type('text/plain; charset=utf-8')
      .send(
        `Number Deleted: ${r.deleted}\nNumber Not Found: ${r.notFound}\nResponse Body: \nResponse Status: ${r.status}\nErrors:\n${r.errors.map((e) => `${e[0]}, ${e[1]}`).join('\n')}`,
      );
  }

  async function bulkDelete(req: Request, res: Response, t: Target, caller: Caller | undefined) {
    const text = await readSmallBody(req, BULK_MAX_DELETES * 1100);
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (lines.length > BULK_MAX_DELETES)
      throw new SwiftError(413, `Maximum Bulk Deletes: ${BULK_MAX_DELETES} per request`);
    const result = newBulkResult();
    // Objects first, then containers, so that "container and all its objects" in one list works.
    const paths = lines.map((l) => {
      let p: string;
      try {
        p = decodeURIComponent(l).replace(/^\/+/, '');
      } catch {
        // Undecodable: reported as an error entry below (no such container can exist).
        p = '\u0000';
      }
      const i = p.indexOf('/');
      return i < 0
        ? { line: l, container: p, object: undefined }
        : { line: l, container: p.slice(0, i), object: p.slice(i + 1) };
    });
    const ordered = [...paths.filter((p) => p.object), ...paths.filter((p) => !p.object)];
    for (const p of ordered) {
      const sub: Target = {
        account: t.account,
        container: p.container,
        object: p.object,
        query: new URLSearchParams(),
      };
      try {
        if (p.container === '\u0000') throw new SwiftError(412, '');
        authorize(req, sub, caller, 'DELETE');
        if (p.object) {
          if (store.deleteObject(t.account, p.container, p.object)) result.deleted++;
          else result.notFound++;
        } else if (!store.container(t.account, p.container)) result.notFound++;
        else {
          store.deleteContainer(t.account, p.container);
          result.deleted++;
        }
      } catch (err) {
        if (!(err instanceof SwiftError)) throw err;
        result.errors.push([p.line, statusLine(err.status)]);
      }
    }
    sendBulkResult(req, res, result);
  }

  // ---- the in-process contract ------------------------------------------------------------------

  return {
    type: 'object-store',
    name: 'swift',
    router,
    store,
    catalogUrl: (base) => `${base}/v1/AUTH_%(project_id)s`,
    ensureContainer(account, container) {
      store.createContainer(account, container);
    },
    async putObject(account, container, name, data, headers = {}) {
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      const meta: Record<string, string> = {};
      for (const [k, v] of Object.entries(lower))
        if (k.startsWith('x-object-meta-')) meta[k.slice('x-object-meta-'.length)] = v;
      const rec = await store.writeObject(account, container, name, data, {
        contentType: lower['content-type'] ?? 'application/octet-stream',
        meta,
        expectedMd5: unquote(lower.etag),
      });
      return { etag: rec.hash, size: rec.bytes };
    },
    getObject(account, container, name) {
      const o = store.object(account, container, name);
      if (!o) return undefined;
      if (!o.slo) return store.readStored(account, container, o);
      return Readable.from(sloBytes(account, resolveSegments(account, container, o), 0, o.bytes - 1));
    },
    deleteObject(account, container, name) {
      return store.deleteObject(account, container, name);
    },
    listObjects(account, container, prefix = '') {
      const c = store.container(account, container);
      if (!c) return [];
      return [...c.objects.keys()].filter((n) => n.startsWith(prefix)).sort();
    },
  };
};

// ---- helpers --------------------------------------------------------------------------------------

function storedBytes(o: ObjectRecord): number {
  return o.slo ? o.slo.manifestBytes : o.bytes;
}

function applyMeta(
  current: Record<string, string>,
  changes: { set: Record<string, string>; remove: string[] },
  kind: string,
): Record<string, string> {
  const next = { ...current };
  for (const [k, v] of Object.entries(changes.set)) {
    // An empty value removes the item on accounts and containers.
    if (v === '') delete next[k];
    else next[k] = v;
  }
  for (const k of changes.remove) delete next[k];
  checkMetadata(next, kind);
  return next;
}

function splitSegmentPath(path: string): { container: string; object: string } {
  const p = path.replace(/^\//, '');
  const i = p.indexOf('/');
  if (i <= 0 || i === p.length - 1) throw new SwiftError(400, `Invalid path: ${path}`);
  return { container: p.slice(0, i), object: p.slice(i + 1) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new SwiftError(412, 'Invalid UTF8 or contains NULL');
  }
}

function unquote(etag: string | undefined): string | undefined {
  return etag ? etag.replace(/^"|"$/g, '').toLowerCase() : undefined;
}

const TYPES: Record<string, string> = {
  json: 'application/json',
  yaml: 'application/x-yaml',
  yml: 'application/x-yaml',
  txt: 'text/plain',
  html: 'text/html',
  qcow2: 'application/octet-stream',
  img: 'application/octet-stream',
  gz: 'application/gzip',
  tar: 'application/x-tar',
};

/** The client's Content-Type, else a guess from the name's extension (the proxy's mimetypes guess). */
function contentTypeOf(req: Request, name: string): string {
  const given = req.get('Content-Type');
  if (given && !/^application\/x-www-form-urlencoded/.test(given)) return given;
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  return (ext && TYPES[ext]) ?? 'application/octet-stream';
}

async function pipeStream(body: Readable, res: Response): Promise<void> {
  await new Promise<void>((resolve) => {
    body.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      body.destroy();
      resolve();
    });
    body.pipe(res);
  });
}

export function infoDocument() {
  return {
    swift: {
      version: '2.30.1',
      max_file_size: MAX_FILE_SIZE,
      max_meta_name_length: 128,
      max_meta_value_length: 256,
      max_meta_count: 90,
      max_meta_overall_size: 4096,
      max_header_size: 8192,
      max_object_name_length: 1024,
      container_listing_limit: LISTING_LIMIT,
      account_listing_limit: LISTING_LIMIT,
      max_account_name_length: 256,
      max_container_name_length: 256,
      extra_header_count: 0,
      valid_api_versions: ['v1', 'v1.0'],
      strict_cors_mode: true,
      policies: [{ name: 'Policy-0', aliases: 'Policy-0', default: true }],
      allow_account_management: false,
      account_autocreate: true,
    },
    slo: {
      max_manifest_segments: SLO_MAX_SEGMENTS,
      max_manifest_size: SLO_MAX_MANIFEST_SIZE,
      yield_frequency: 10,
      min_segment_size: 1,
      allow_async_delete: false,
    },
    bulk_delete: { max_deletes_per_request: BULK_MAX_DELETES, max_failed_deletes: 1000 },
    bulk_upload: { max_containers_per_extraction: 10000, max_failed_extractions: 1000 },
    keystoneauth: {},
    account_quotas: {},
    container_quotas: {},
    staticweb: {},
    versioned_writes: { allowed_flags: ['x-versions-location', 'x-history-location'] },
    symlink: { symloop_max: 2, static_links: true },
    tempurl: {
      methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
      incoming_remove_headers: ['x-timestamp'],
      outgoing_remove_headers: ['x-object-meta-*'],
      allowed_digests: ['sha1', 'sha256', 'sha512'],
    },
  };
}

/**
 * Glance (Image service API v2) of one simulated site: image records with
 * real bytes in a file store under `<dataDir>/glance/images/`, md5 `checksum`
 * and sha512 `os_hash_value` computed while the upload streams, visibility
 * between projects, JSON-patch updates, and a seeded public CirrOS image.
 * Errors are webob-style like the real service (see docs/cloud-api-notes/glance.md).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import express, { type Request, type Response } from 'express';
import type { ImageServiceApi, SimImage } from './contracts.js';
import { deterministicChunks, storeFile, storeStream } from './glance-data.js';
import { callerOf, type SimCaller } from './sim-auth.js';
import type { SiteContext } from './site.js';
import { JsonState } from './storage-state.js';

/** A stored image: the contract's view plus the fields only the API shows. */
export interface GlanceImage extends SimImage {
  created_at: string;
  updated_at: string;
  tags: string[];
  min_disk: number;
  min_ram: number;
  protected: boolean;
  os_hidden: boolean;
  virtual_size: number | null;
}

export const SEED_IMAGE_NAME = 'cirros-0.6.2-x86_64-disk';
/** Size of the seeded public image: a few MiB of deterministic bytes. */
export const SEED_IMAGE_SIZE = 4 * 1024 * 1024 + 321;

const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'];
const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];
const VISIBILITIES = ['public', 'private', 'shared', 'community'];
/** Base attributes a JSON patch may change (everything else is read-only or an extra property). */
const MUTABLE = new Set([
  'name',
  'visibility',
  'disk_format',
  'container_format',
  'min_disk',
  'min_ram',
  'protected',
  'tags',
  'os_hidden',
]);
const READ_ONLY = new Set([
  'id',
  'status',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'size',
  'virtual_size',
  'created_at',
  'updated_at',
  'self',
  'file',
  'schema',
  'direct_url',
  'locations',
  'owner',
]);
const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';

export type GlanceService = ImageServiceApi & { images(): GlanceImage[] };

export function glanceService(site: SiteContext): GlanceService {
  const root = join(site.dataDir, 'glance');
  const imagesDir = join(root, 'images');
  mkdirSync(imagesDir, { recursive: true });
  const state = new JsonState<{ images: Record<string, GlanceImage> }>(root, () => ({ images: {} }));
  const images = state.data.images;
  const dataPath = (id: string) => join(imagesDir, id);

  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  function newImage(owner: string, fields: Partial<GlanceImage>): GlanceImage {
    const t = now();
    return {
      id: fields.id ?? randomUUID(),
      name: fields.name ?? null,
      status: 'queued',
      owner,
      visibility: fields.visibility ?? 'shared',
      disk_format: fields.disk_format ?? null,
      container_format: fields.container_format ?? null,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      properties: fields.properties ?? {},
      created_at: t,
      updated_at: t,
      tags: fields.tags ?? [],
      min_disk: fields.min_disk ?? 0,
      min_ram: fields.min_ram ?? 0,
      protected: fields.protected ?? false,
      os_hidden: fields.os_hidden ?? false,
    };
  }

  function visibleTo(img: GlanceImage, c: SimCaller): boolean {
    return (
      c.isAdmin || img.owner === c.projectId || img.visibility === 'public' || img.visibility === 'community'
    );
  }

  /** The image JSON of the v2 API: base attributes, then extra properties at top level. */
  function view(img: GlanceImage): Record<string, unknown> {
    const { properties, ...base } = img;
    return {
      ...properties,
      ...base,
      self: `/v2/images/${img.id}`,
      file: `/v2/images/${img.id}/file`,
      schema: '/v2/schemas/image',
    };
  }

  /** webob's error answer: JSON when the client accepts it, the HTML page otherwise. */
  function fail(req: Request, res: Response, status: number, title: string, message: string) {
    if ((req.get('accept') ?? '').includes('application/json')) {
      res.status(status).json({ message: `${message}<br /><br />\n\n\n`, code: `${status} ${title}`, title });
    } else {
      res
        .status(status)
        .type('text/html')
        .send(
          `<html>\n <head>\n  <title>${status} ${title}</title>\n </head>\n <body>\n  <h1>${status} ${title}</h1>\n  ${escapeHtml(message)}<br /><br />\n\n\n\n </body>\n</html>`,
        );
    }
  }
  const notFound = (req: Request, res: Response, id: string) =>
    fail(req, res, 404, 'Not Found', `No image found with ID ${id}`);

  function find(req: Request, res: Response): GlanceImage | undefined {
    const img = images[String(req.params.id)];
    if (!img || !visibleTo(img, callerOf(res))) {
      notFound(req, res, String(req.params.id));
      return undefined;
    }
    return img;
  }

  const mayModify = (img: GlanceImage, c: SimCaller) => c.isAdmin || img.owner === c.projectId;

  function validateFields(body: Record<string, unknown>): string | undefined {
    if (body.disk_format != null && !DISK_FORMATS.includes(String(body.disk_format)))
      return `Invalid disk format '${String(body.disk_format)}' for image.`;
    if (body.container_format != null && !CONTAINER_FORMATS.includes(String(body.container_format)))
      return `Invalid container format '${String(body.container_format)}' for image.`;
    if (body.visibility != null && !VISIBILITIES.includes(String(body.visibility)))
      return `Invalid visibility value: ${String(body.visibility)}`;
    return undefined;
  }

  const router = express.Router();
  const json = express.json({ type: ['application/json', PATCH_TYPE], limit: '1mb' });

  const versions = () => ({
    versions: [
      { id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: `${site.endpoint('image')}/v2/` }] },
    ],
  });
  router.get('/', (_req, res) => res.status(300).json(versions()));
  router.get('/versions', (_req, res) => res.json(versions()));

  router.post('/v2/images', site.auth, json, (req, res) => {
    const c = callerOf(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const bad = validateFields(body);
    if (bad) return fail(req, res, 400, 'Bad Request', bad);
    for (const k of ['status', 'checksum', 'size', 'os_hash_value', 'created_at', 'self', 'file'])
      if (k in body) return fail(req, res, 403, 'Forbidden', `Attribute '${k}' is read-only.`);
    if (body.visibility === 'public' && !c.isAdmin)
      return fail(req, res, 403, 'Forbidden', 'You are not authorized to complete publicize_image action.');
    if (body.id && images[String(body.id)])
      return fail(req, res, 409, 'Conflict', `Image with identifier ${String(body.id)} already exists!`);
    const properties: Record<string, string> = {};
    for (const [k, v] of Object.entries(body))
      if (!MUTABLE.has(k) && k !== 'id' && k !== 'owner') properties[k] = String(v);
    const owner = c.isAdmin && typeof body.owner === 'string' ? body.owner : c.projectId;
    const img = newImage(owner, {
      ...(body as Partial<GlanceImage>),
      id: typeof body.id === 'string' ? body.id : undefined,
      properties,
    });
    images[img.id] = img;
    state.save();
    res
      .status(201)
      .location(`${site.endpoint('image')}/v2/images/${img.id}`)
      .json(view(img));
  });

  router.get('/v2/images', site.auth, (req, res) => {
    const c = callerOf(res);
    const q = req.query as Record<string, string | undefined>;
    const limit = Math.min(Number(q.limit ?? 25) || 25, 1000);
    let list = Object.values(images).filter((img) => {
      if (q.visibility) {
        if (img.visibility !== q.visibility) return false;
        if (q.visibility === 'shared' || q.visibility === 'private')
          return c.isAdmin || img.owner === c.projectId;
        return true;
      }
      // Default listing: the caller's own images and public ones (community only when asked).
      if (!(c.isAdmin || img.owner === c.projectId || img.visibility === 'public')) return false;
      if (img.os_hidden && q.os_hidden !== 'true') return false;
      return true;
    });
    const propFilters = Object.entries(q).filter(
      ([k]) =>
        ![
          'limit',
          'marker',
          'sort_key',
          'sort_dir',
          'sort',
          'visibility',
          'os_hidden',
          'member_status',
        ].includes(k),
    );
    list = list.filter((img) =>
      propFilters.every(([k, v]) => {
        if (k === 'tag') return img.tags.includes(String(v));
        if (k === 'size_min') return (img.size ?? 0) >= Number(v);
        if (k === 'size_max') return (img.size ?? 0) <= Number(v);
        const actual = k in img ? (img as unknown as Record<string, unknown>)[k] : img.properties[k];
        const wanted = String(v);
        // Glance's "in:" operator for name, status, container/disk format.
        if (wanted.startsWith('in:'))
          return wanted
            .slice(3)
            .split(',')
            .includes(String(actual ?? ''));
        return actual != null && String(actual) === wanted;
      }),
    );
    const dir = q.sort_dir === 'asc' ? 1 : -1;
    const key = (q.sort_key ?? 'created_at') as keyof GlanceImage;
    list.sort((a, b) => {
      const x = String(a[key] ?? '');
      const y = String(b[key] ?? '');
      return (x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1) * dir;
    });
    if (q.marker) {
      const at = list.findIndex((i) => i.id === q.marker);
      if (at < 0)
        return fail(req, res, 400, 'Bad Request', `Invalid marker. Image ${q.marker} could not be found.`);
      list = list.slice(at + 1);
    }
    const page = list.slice(0, limit);
    const body: Record<string, unknown> = {
      images: page.map(view),
      first: '/v2/images',
      schema: '/v2/schemas/images',
    };
    if (list.length > limit) {
      const next = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (k !== 'marker' && v !== undefined) next.set(k, String(v));
      next.set('marker', page[page.length - 1].id);
      next.set('limit', String(limit));
      body.next = `/v2/images?${next.toString()}`;
    }
    res.json(body);
  });

  router.get('/v2/images/:id', site.auth, (req, res) => {
    const img = find(req, res);
    if (img) res.json(view(img));
  });

  router.patch('/v2/images/:id', site.auth, json, (req, res) => {
    const img = find(req, res);
    if (!img) return;
    const c = callerOf(res);
    if (!req.is(PATCH_TYPE))
      return fail(req, res, 415, 'Unsupported Media Type', `Content type not supported; use ${PATCH_TYPE}`);
    if (!mayModify(img, c))
      return fail(req, res, 403, 'Forbidden', 'You are not permitted to modify this image.');
    const ops = req.body as Array<{ op?: string; path?: string; value?: unknown }>;
    if (!Array.isArray(ops))
      return fail(req, res, 400, 'Bad Request', 'Request body must be a JSON array of operation objects.');
    // Validate everything first: a patch applies whole or not at all.
    const next: GlanceImage = { ...img, properties: { ...img.properties }, tags: [...img.tags] };
    for (const op of ops) {
      const attr = String(op.path ?? '').replace(/^\//, '');
      if (!['add', 'replace', 'remove'].includes(String(op.op)) || !attr)
        return fail(
          req,
          res,
          400,
          'Bad Request',
          `Unable to find '${String(op.op)}' operation or path in the JSON patch.`,
        );
      if (READ_ONLY.has(attr) && !(attr === 'owner' && c.isAdmin))
        return fail(req, res, 403, 'Forbidden', `Attribute '${attr}' is read-only.`);
      if (MUTABLE.has(attr) || attr === 'owner') {
        if (op.op === 'remove') return fail(req, res, 403, 'Forbidden', `Attribute '${attr}' is reserved.`);
        const bad = validateFields({ [attr]: op.value });
        if (bad) return fail(req, res, 400, 'Bad Request', bad);
        if (attr === 'visibility' && op.value === 'public' && !c.isAdmin)
          return fail(
            req,
            res,
            403,
            'Forbidden',
            'You are not authorized to complete publicize_image action.',
          );
        (next as unknown as Record<string, unknown>)[attr] = op.value;
      } else if (op.op === 'remove') {
        if (!(attr in next.properties))
          return fail(req, res, 409, 'Conflict', `Property ${attr} does not exist.`);
        delete next.properties[attr];
      } else {
        if (op.op === 'replace' && !(attr in next.properties))
          return fail(req, res, 409, 'Conflict', `Property ${attr} does not exist.`);
        next.properties[attr] = String(op.value);
      }
    }
    next.updated_at = now();
    images[img.id] = next;
    state.save();
    res.json(view(next));
  });

  router.delete('/v2/images/:id', site.auth, async (req, res) => {
    const img = find(req, res);
    if (!img) return;
    if (!mayModify(img, callerOf(res)))
      return fail(req, res, 403, 'Forbidden', 'You are not permitted to delete this image.');
    if (img.protected)
      return fail(req, res, 403, 'Forbidden', `Image ${img.id} is protected and cannot be deleted.`);
    delete images[img.id];
    state.save();
    await rm(dataPath(img.id), { force: true });
    res.status(204).end();
  });

  router.put('/v2/images/:id/file', site.auth, async (req, res) => {
    const img = find(req, res);
    if (!img) return;
    if (!mayModify(img, callerOf(res)))
      return fail(req, res, 403, 'Forbidden', 'You are not permitted to upload data for this image.');
    if (img.status !== 'queued')
      return fail(
        req,
        res,
        409,
        'Conflict',
        `Image status transition from ${img.status} to saving is not allowed`,
      );
    if (!img.disk_format || !img.container_format)
      return fail(
        req,
        res,
        400,
        'Bad Request',
        'Properties disk_format, container_format must be set prior to saving data.',
      );
    img.status = 'saving';
    img.updated_at = now();
    state.save();
    try {
      const stored = await storeStream(req, dataPath(img.id));
      setData(img, stored);
      res.status(204).end();
    } catch {
      // A broken upload returns the image to queued, as glance does when the client goes away.
      img.status = 'queued';
      state.save();
      if (!res.headersSent && !req.socket.destroyed)
        fail(req, res, 400, 'Bad Request', 'Error in store configuration or the upload was interrupted.');
    }
  });

  router.get('/v2/images/:id/file', site.auth, (req, res) => {
    const img = find(req, res);
    if (!img) return;
    if (img.status !== 'active' || !existsSync(dataPath(img.id))) return res.status(204).end();
    res.status(200).set({
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(img.size ?? 0),
      'Content-MD5': img.checksum ?? '',
    });
    const stream = createReadStream(dataPath(img.id), { highWaterMark: 1 << 20 });
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });

  router.get('/v2/schemas/image', (_req, res) => res.json({ name: 'image', properties: {} }));
  // Malformed JSON bodies get glance's 400, not express's page.
  router.use((err: Error & { status?: number }, req: Request, res: Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    fail(req, res, err.status ?? 400, 'Bad Request', 'Malformed JSON in request body.');
  });

  function setData(img: GlanceImage, stored: { size: number; checksum: string; osHashValue: string }) {
    img.size = stored.size;
    img.virtual_size = null;
    img.checksum = stored.checksum;
    img.os_hash_algo = 'sha512';
    img.os_hash_value = stored.osHashValue;
    img.updated_at = now();
    // A stuck id leaves the image in `saving`, as a glance-api dying mid-upload does.
    if (!site.faults.stuck.has(img.id)) img.status = 'active';
    state.save();
  }

  function queued(
    owner: string,
    fields: {
      name: string;
      disk_format?: string;
      container_format?: string;
      visibility?: SimImage['visibility'];
      properties?: Record<string, string>;
    },
  ): GlanceImage {
    const img = newImage(owner, {
      name: fields.name,
      visibility: fields.visibility ?? 'private',
      disk_format: fields.disk_format ?? 'raw',
      container_format: fields.container_format ?? 'bare',
      properties: { ...(fields.properties ?? {}) },
    });
    images[img.id] = img;
    state.save();
    return img;
  }

  async function upload(id: string, filePath: string): Promise<GlanceImage> {
    const img = images[id];
    if (!img) throw new Error(`image ${id} not found`);
    img.status = 'saving';
    state.save();
    try {
      setData(img, await storeFile(filePath, dataPath(img.id)));
    } catch (err) {
      img.status = 'killed';
      state.save();
      throw err;
    }
    return img;
  }

  async function seedPublicImage() {
    if (Object.values(images).some((i) => i.name === SEED_IMAGE_NAME)) return;
    const admin = site.identity.findProject({ name: 'admin', domainId: 'default' });
    const img = newImage(admin?.id ?? 'admin', {
      name: SEED_IMAGE_NAME,
      visibility: 'public',
      disk_format: 'qcow2',
      container_format: 'bare',
    });
    const stored = await storeStream(Readable.from(deterministicChunks(SEED_IMAGE_SIZE)), dataPath(img.id));
    images[img.id] = img;
    setData(img, stored);
  }

  return {
    type: 'image',
    name: 'glance',
    router,
    catalogUrl: (base: string) => base,
    async start() {
      await seedPublicImage();
    },
    images: () => Object.values(images),
    getImage: (id: string) => images[id],
    imageDataPath: (id: string) =>
      images[id]?.status === 'active' && existsSync(dataPath(id)) ? dataPath(id) : undefined,
    createImageFromFile(owner, fields, filePath) {
      const img = queued(owner, { ...fields, visibility: 'private' });
      return upload(img.id, filePath);
    },
    createQueuedImage: (owner, fields) => queued(owner, fields),
    uploadImageFromFile: (id, filePath) => upload(id, filePath),
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] ?? ch);
}

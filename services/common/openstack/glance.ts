/**
 * Glance Image service API v2 client: images CRUD, JSON-patch updates,
 * streaming upload and download (an image never sits in memory), and
 * waiting for an image to become active. Follows the Image API v2 api-ref;
 * see docs/cloud-api-notes/glance.md for each call.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { EndpointInterface } from './catalog.js';
import { OpenStackHttpError } from './errors.js';
import type { KeystoneSession, RequestOptions } from './session.js';
import { type WaitOptions, waitFor } from './wait.js';

export interface Image {
  id: string;
  name: string | null;
  status: 'queued' | 'saving' | 'active' | 'killed' | 'deleted' | 'pending_delete' | 'deactivated' | string;
  visibility: 'public' | 'private' | 'shared' | 'community';
  owner: string;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  min_disk: number;
  min_ram: number;
  protected: boolean;
  tags: string[];
  created_at: string;
  updated_at: string;
  /** Extra properties (image_type, instance_uuid, ...) appear at the top level. */
  [property: string]: unknown;
}

export interface ImageCreate {
  name: string;
  disk_format?: string;
  container_format?: string;
  visibility?: Image['visibility'];
  min_disk?: number;
  min_ram?: number;
  protected?: boolean;
  tags?: string[];
  id?: string;
  /** Extra properties, sent at the top level as the API wants. */
  properties?: Record<string, string>;
}

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export interface ImageDownload {
  /** The image's bytes; consume or destroy it. */
  stream: Readable;
  size: number | undefined;
  /** Content-MD5 header (the image's `checksum`). */
  md5: string | undefined;
}

export interface ClientEndpointOptions {
  region?: string;
  interface?: EndpointInterface;
}

const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';

export class GlanceClient {
  constructor(
    readonly session: KeystoneSession,
    readonly endpoint: ClientEndpointOptions = {},
  ) {}

  #target(path: string) {
    return { service: 'image', path, region: this.endpoint.region, interface: this.endpoint.interface };
  }

  #json<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
    return this.session.requestJson<T>(method, this.#target(path), opts);
  }

  /** POST /v2/images: a queued image record. */
  createImage(req: ImageCreate): Promise<Image> {
    const { properties, ...base } = req;
    return this.#json<Image>('POST', 'v2/images', { json: { ...(properties ?? {}), ...base } });
  }

  /** GET /v2/images/{id}. */
  getImage(id: string): Promise<Image> {
    return this.#json<Image>('GET', `v2/images/${encodeURIComponent(id)}`);
  }

  /** The image, or undefined when Glance answers 404. */
  async findImage(id: string): Promise<Image | undefined> {
    try {
      return await this.getImage(id);
    } catch (err) {
      if (err instanceof OpenStackHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * GET /v2/images with filters (name, status, visibility, owner, image_type, os_hash_value, tag, ...),
   * following `next` links until `max` images (default all) were read.
   */
  async listImages(
    filters: Record<string, string | number | boolean | undefined> = {},
    opts: { pageSize?: number; max?: number } = {},
  ): Promise<Image[]> {
    const out: Image[] = [];
    let query: Record<string, string | number | boolean | undefined> = {
      ...filters,
      limit: opts.pageSize ?? filters.limit,
    };
    for (;;) {
      const page = await this.#json<{ images: Image[]; next?: string }>('GET', 'v2/images', { query });
      out.push(...page.images);
      if (!page.next || (opts.max !== undefined && out.length >= opts.max)) break;
      query = Object.fromEntries(new URL(page.next, 'http://x').searchParams.entries());
    }
    return opts.max !== undefined ? out.slice(0, opts.max) : out;
  }

  /** PATCH /v2/images/{id} with a JSON patch (media type openstack-images-v2.1-json-patch). */
  updateImage(id: string, ops: JsonPatchOp[]): Promise<Image> {
    return this.#json<Image>('PATCH', `v2/images/${encodeURIComponent(id)}`, {
      body: JSON.stringify(ops),
      headers: { 'Content-Type': PATCH_TYPE },
    });
  }

  /** Sets (value) or removes (null) extra properties, choosing add/replace/remove from the image's current state. */
  async setProperties(id: string, props: Record<string, string | null>): Promise<Image> {
    const current = await this.getImage(id);
    const ops: JsonPatchOp[] = [];
    for (const [k, v] of Object.entries(props)) {
      const path = `/${k}`;
      if (v === null) {
        if (k in current) ops.push({ op: 'remove', path });
      } else ops.push({ op: k in current ? 'replace' : 'add', path, value: v });
    }
    return ops.length ? this.updateImage(id, ops) : current;
  }

  /** DELETE /v2/images/{id}. */
  async deleteImage(id: string): Promise<void> {
    await this.session.request('DELETE', this.#target(`v2/images/${encodeURIComponent(id)}`));
  }

  /**
   * PUT /v2/images/{id}/file: streams the bytes (never retried: a stream cannot be replayed).
   * A Buffer is sent as is (and may be retried).
   */
  async uploadImage(
    id: string,
    data: Readable | AsyncIterable<Uint8Array> | Buffer,
    opts: { size?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    const res = await this.session.request('PUT', this.#target(`v2/images/${encodeURIComponent(id)}/file`), {
      body: data as RequestOptions['body'],
      headers: {
        'Content-Type': 'application/octet-stream',
        ...(opts.size !== undefined ? { 'Content-Length': String(opts.size) } : {}),
      },
      signal: opts.signal,
    });
    await res.body?.cancel().catch(() => {});
  }

  /** GET /v2/images/{id}/file as a stream; undefined when the image has no data (204). */
  async downloadImage(id: string, opts: { signal?: AbortSignal } = {}): Promise<ImageDownload | undefined> {
    const res = await this.session.request('GET', this.#target(`v2/images/${encodeURIComponent(id)}/file`), {
      headers: { Accept: 'application/octet-stream' },
      signal: opts.signal,
    });
    if (res.status === 204 || !res.body) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    const len = res.headers.get('content-length');
    return {
      stream: Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>),
      size: len ? Number(len) : undefined,
      md5: res.headers.get('content-md5') ?? undefined,
    };
  }

  /** Waits for `active`; `killed`/`deleted` fail with the image named. */
  waitForImageActive(
    id: string,
    opts: Partial<
      Pick<WaitOptions<Image>, 'timeoutMs' | 'intervalMs' | 'maxIntervalMs' | 'signal' | 'onProgress'>
    > = {},
  ): Promise<Image> {
    return waitFor<Image>({
      resource: `image ${id}`,
      poll: () => this.getImage(id),
      status: (i) => i.status,
      ready: ['active'],
      failed: ['killed', 'deleted', 'deactivated'],
      ...opts,
    });
  }
}

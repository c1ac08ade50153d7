/**
 * Remembers serialised list pages, each tagged with the data version it was
 * read at. A page is served again only while the version the caller reads
 * from the database (in the same request) is still the one it was stored
 * with, so the cache never answers with data older than the database's
 * committed state, however many API processes write. Bounded by bytes;
 * the least recently used pages go first.
 */
import type { Request, Response } from 'express';
import { type ApiVersion, formatVersion } from './microversion.js';
import { baseUrl } from './urls.js';

export class ListCache {
  readonly #pages = new Map<string, { version: number; body: Buffer }>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** The page stored under `key` for exactly `version`, or undefined. */
  get(key: string, version: number): Buffer | undefined {
    const page = this.#pages.get(key);
    if (!page) return undefined;
    if (page.version !== version) {
      this.#drop(key, page.body);
      return undefined;
    }
    // Re-inserting moves the page to the young end of the Map's order.
    this.#pages.delete(key);
    this.#pages.set(key, page);
    return page.body;
  }

  set(key: string, version: number, body: Buffer): void {
    if (body.length > this.maxBytes) return;
    const old = this.#pages.get(key);
    if (old) this.#drop(key, old.body);
    this.#pages.set(key, { version, body });
    this.#bytes += body.length;
    for (const [k, page] of this.#pages) {
      if (this.#bytes <= this.maxBytes) break;
      this.#drop(k, page.body);
    }
  }

  get size(): number {
    return this.#pages.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #drop(key: string, body: Buffer): void {
    this.#pages.delete(key);
    this.#bytes -= body.length;
  }
}

/**
 * What makes one cached page differ from another: the project, the
 * negotiated microversion, and the URL as the client sent it (every query
 * parameter, and the host the next link points back to).
 */
export function listCacheKey(req: Request, res: Response, scope: string): string {
  const v = res.locals.apiVersion as ApiVersion | undefined;
  return `${scope}\n${v ? formatVersion(v) : ''}\n${baseUrl(req)}${req.originalUrl}`;
}

/** Sends serialised JSON with the headers `res.json` would set. */
export function sendJsonBytes(res: Response, body: Buffer): void {
  res.set('Content-Type', 'application/json; charset=utf-8').send(body);
}

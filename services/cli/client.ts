import type { Session } from './auth.js';
import { errorFromResponse, send } from './http.js';

export type Query = Record<string, string | number | boolean | undefined>;

/** A thin JSON client for Dragon's /v1 API: one method per HTTP verb plus paging. */
export class DragonClient {
  constructor(private readonly session: Session) {}

  private url(path: string, query?: Query): string {
    const url = new URL(this.session.endpoint + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-auth-token': this.session.token,
      'user-agent': 'dragon-cli',
    };
    if (this.session.apiVersion)
      headers['openstack-api-version'] = `disaster-recovery ${this.session.apiVersion}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await send(this.session.fetch, this.url(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string, query?: Query) {
    return this.request<T>('GET', path, { query });
  }
  post<T>(path: string, body?: unknown) {
    return this.request<T>('POST', path, { body });
  }
  patch<T>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, { body });
  }
  delete(path: string) {
    return this.request<void>('DELETE', path);
  }

  /**
   * Every item of a collection, following `<collection>_links` next links
   * like OSC does unless the user asked for one page with --limit.
   */
  async list<T>(path: string, collection: string, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    let q: Query = { ...query };
    const onePage = query.limit !== undefined;
    for (;;) {
      const page = await this.get<Record<string, unknown>>(path, q);
      const rows = (page[collection] as T[] | undefined) ?? [];
      items.push(...rows);
      const links = (page[`${collection}_links`] as Array<{ rel: string; href: string }> | undefined) ?? [];
      const next = links.find((l) => l.rel === 'next');
      if (onePage || !next || rows.length === 0) return items;
      const marker = new URL(next.href, this.session.endpoint).searchParams.get('marker');
      if (!marker) return items;
      q = { ...q, marker };
    }
  }
}

/**
 * The list conventions of api-v1.md: `limit` (default 100, capped at 1000),
 * `marker`, `sort=key:dir` (repeatable or comma separated), filters, and a
 * `<collection>_links` next link when more rows follow.
 */
import type { Request } from 'express';
import { DragonError } from '../common/errors.js';
import type { Page, PageRequest, SortDir, SortKey } from '../common/objects/pagination.js';
import { singleParam } from './context.js';
import { baseUrl } from './urls.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** Newest first, like other OpenStack lists. */
const DEFAULT_SORT: SortKey[] = [
  { key: 'created_at', dir: 'desc' },
  { key: 'id', dir: 'desc' },
];

export function pageRequest(req: Request, sortKeys: readonly string[]): PageRequest {
  const rawLimit = singleParam(req.query.limit, 'limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1) {
      throw new DragonError(400, `limit must be a positive integer, not "${rawLimit}".`);
    }
    limit = Math.min(Number(rawLimit), MAX_LIMIT);
  }
  const marker = singleParam(req.query.marker, 'marker');
  const rawSort = req.query.sort;
  const sortItems = (Array.isArray(rawSort) ? rawSort : rawSort === undefined ? [] : [rawSort])
    .flatMap((s) => String(s).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const sort: SortKey[] = [];
  for (const item of sortItems) {
    const [key, dir = 'asc', ...rest] = item.split(':');
    if (!sortKeys.includes(key)) {
      throw new DragonError(400, `Cannot sort by "${key}"; sort keys are: ${sortKeys.join(', ')}.`);
    }
    if (rest.length > 0 || (dir !== 'asc' && dir !== 'desc')) {
      throw new DragonError(400, `Sort direction of "${item}" must be asc or desc.`);
    }
    if (sort.some((k) => k.key === key)) throw new DragonError(400, `Sort key "${key}" is given twice.`);
    sort.push({ key, dir: dir as SortDir });
  }
  return { limit, marker, sort: sort.length > 0 ? sort : DEFAULT_SORT };
}

/** The equality filters named in `names` that the query carries. */
export function filters<K extends string>(req: Request, names: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = singleParam(req.query[name], name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** `[{"rel": "next", "href": ...}]` keeping every other query parameter, or undefined on the last page. */
export function nextLinks<T extends { id: string }>(
  req: Request,
  page: Page<T>,
  limit: number,
): Array<{ rel: string; href: string }> | undefined {
  if (!page.more || page.items.length === 0) return undefined;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(req.query)) {
    if (key === 'limit' || key === 'marker') continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  params.set('limit', String(limit));
  params.set('marker', page.items.at(-1)!.id);
  return [{ rel: 'next', href: `${baseUrl(req)}${req.baseUrl}${req.path}?${params}` }];
}

/** `{ <collection>: items, <collection>_links?: [...] }` */
export function listBody<T extends { id: string }, V>(
  req: Request,
  collection: string,
  page: Page<T>,
  limit: number,
  view: (row: T) => V,
): Record<string, unknown> {
  const body: Record<string, unknown> = { [collection]: page.items.map(view) };
  const links = nextLinks(req, page, limit);
  if (links) body[`${collection}_links`] = links;
  return body;
}

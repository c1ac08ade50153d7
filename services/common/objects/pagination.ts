/**
 * Keyset pagination in the oslo.db `paginate_query` style: rows are ordered
 * by the requested sort keys plus `id` as the tie-breaker, and the next page
 * starts strictly after the marker row. Unlike OFFSET, pages stay correct
 * while rows are added or removed between requests.
 */
import type { Knex } from 'knex';
import { DragonError } from '../errors.js';

export type SortDir = 'asc' | 'desc';
export interface SortKey {
  key: string;
  dir: SortDir;
}

export interface PageRequest {
  limit: number;
  /** Id of the last row of the previous page. */
  marker?: string;
  sort: SortKey[];
}

export interface Page<T> {
  items: T[];
  /** True when rows follow the last item (the API then offers a `next` link). */
  more: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Runs one page of `query()` (a fresh builder each call, already filtered
 * and scoped) over `table`. Sort keys must be NOT NULL columns: NULLs have no
 * order a keyset comparison can continue from.
 */
export async function paginate<T extends { id: string }>(
  query: () => Knex.QueryBuilder,
  table: string,
  page: PageRequest,
): Promise<Page<T>> {
  const keys = [...page.sort];
  if (!keys.some((k) => k.key === 'id')) keys.push({ key: 'id', dir: keys.at(-1)?.dir ?? 'asc' });
  const q = query();
  if (page.marker !== undefined) {
    // The marker is looked up through the same scoped query, so another
    // project's id is "not found" here too.
    const marker = isUuid(page.marker)
      ? ((await query().where(`${table}.id`, page.marker).first()) as Record<string, unknown> | undefined)
      : undefined;
    if (!marker) throw new DragonError(400, `Marker ${page.marker} could not be found.`);
    q.where((outer) => {
      keys.forEach((k, i) => {
        outer.orWhere((inner) => {
          for (const prev of keys.slice(0, i))
            inner.where(`${table}.${prev.key}`, marker[prev.key] as Knex.Value);
          inner.where(`${table}.${k.key}`, k.dir === 'asc' ? '>' : '<', marker[k.key] as Knex.Value);
        });
      });
    });
  }
  for (const k of keys) q.orderBy(`${table}.${k.key}`, k.dir);
  const rows = (await q.limit(page.limit + 1)) as T[];
  return { items: rows.slice(0, page.limit), more: rows.length > page.limit };
}

/** Postgres reports a violated UNIQUE constraint as SQLSTATE 23505 (pg and PGlite alike). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

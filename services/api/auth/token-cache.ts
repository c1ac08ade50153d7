/**
 * The validation cache: token SHA-256 -> what Keystone said, kept for
 * token_cache_time and never past the token's expiry. Keys are hashes so a
 * heap dump does not hand out working tokens. Invalid verdicts are cached
 * too, so a client retrying a dead token does not hammer Keystone.
 */
import { createHash } from 'node:crypto';
import type { ValidatedToken } from './types.js';

export type CachedVerdict = ValidatedToken | 'invalid';

export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export class TokenCache {
  readonly #entries = new Map<string, { verdict: CachedVerdict; until: number }>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  get(hash: string): CachedVerdict | undefined {
    const e = this.#entries.get(hash);
    if (!e) return undefined;
    if (e.until <= this.clock()) {
      this.#entries.delete(hash);
      return undefined;
    }
    return e.verdict;
  }

  set(hash: string, verdict: CachedVerdict): void {
    if (this.ttlMs <= 0) return;
    const now = this.clock();
    let until = now + this.ttlMs;
    if (verdict !== 'invalid') until = Math.min(until, verdict.access.expiresAt.getTime());
    if (until <= now) return;
    if (this.#entries.size >= this.maxEntries) this.#evict(now);
    this.#entries.set(hash, { verdict, until });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries, then the oldest ones (Map keeps insertion order) down to 90 %. */
  #evict(now: number): void {
    for (const [k, e] of this.#entries) if (e.until <= now) this.#entries.delete(k);
    const target = Math.floor(this.maxEntries * 0.9);
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= target) break;
      this.#entries.delete(k);
    }
  }
}

import { describe, expect, it, vi } from 'vitest';
import { ListCache } from '../../../services/api/list-cache.js';
import { TickBatch } from '../../../services/api/tick-batch.js';

const bytes = (n: number, fill = 'x') => Buffer.from(fill.repeat(n));

describe('ListCache', () => {
  it('serves a page only for the version it was stored with', () => {
    const cache = new ListCache(1024);
    cache.set('k', 3, bytes(10));
    expect(cache.get('k', 3)?.toString()).toBe('x'.repeat(10));
    expect(cache.get('k', 4)).toBeUndefined();
    // A stale page is dropped, not kept for an older version to find again.
    expect(cache.get('k', 3)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('stays within its byte budget, dropping the least recently used pages first', () => {
    const cache = new ListCache(100);
    cache.set('a', 1, bytes(40));
    cache.set('b', 1, bytes(40));
    cache.get('a', 1); // a is now the most recently used
    cache.set('c', 1, bytes(40));
    expect(cache.bytes).toBeLessThanOrEqual(100);
    expect(cache.get('b', 1)).toBeUndefined();
    expect(cache.get('a', 1)).toBeDefined();
    expect(cache.get('c', 1)).toBeDefined();
    cache.set('huge', 1, bytes(101));
    expect(cache.get('huge', 1)).toBeUndefined();
  });

  it('is off with a budget of 0', () => {
    expect(new ListCache(0).enabled).toBe(false);
  });
});

describe('TickBatch', () => {
  it('makes one call for the lookups of one key asked in the same turn', async () => {
    const call = vi.fn(async (key: string) => `${key}:${call.mock.calls.length}`);
    const batch = new TickBatch(call);
    const answers = await Promise.all([batch.get('p'), batch.get('p'), batch.get('q')]);
    expect(answers).toEqual(['p:1', 'p:1', 'q:2']);
    expect(call).toHaveBeenCalledTimes(2);
  });

  it('never joins a call already made: a later lookup gets a fresh answer', async () => {
    let version = 1;
    let release: () => void = () => {};
    const call = vi.fn(async () => {
      const seen = version;
      await new Promise<void>((r) => {
        release = r;
      });
      return seen;
    });
    const batch = new TickBatch(call);
    const early = batch.get('p');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(call).toHaveBeenCalledTimes(1); // the first call is in flight
    version = 2; // a write commits while it is in flight
    const late = batch.get('p');
    release();
    expect(await early).toBe(1);
    await new Promise((r) => setImmediate(r));
    release();
    expect(await late).toBe(2);
    expect(call).toHaveBeenCalledTimes(2);
  });
});

/**
 * A 1 GiB image streamed Glance → Swift through the typed clients (Glance
 * download piped straight into an SLO upload) with bounded memory: the
 * bytes never sit in the test process, the simulator or the clients whole.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../../../services/cloudsim/cloud.js';
import { deterministicChunks } from '../../../services/cloudsim/glance-data.js';
import { clientsOf, startWholeCloud } from './together-support.js';

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const SEGMENT = 100 * MiB;

/** 1 GiB of reproducible bytes, 1 MiB at a time (each chunk distinct). */
function* gibibyte(): Generator<Buffer> {
  const [block] = deterministicChunks(MiB);
  for (let i = 0; i < SIZE / MiB; i++) {
    const chunk = Buffer.from(block);
    chunk.writeUInt32LE(i, 0);
    yield chunk;
  }
}

/** A pass-through that hashes what flows by. */
function hashing(): { tap: Transform; digest: () => string; sha512: () => string } {
  const h = createHash('sha256');
  const h512 = createHash('sha512');
  const tap = new Transform({
    transform(chunk, _enc, done) {
      h.update(chunk);
      h512.update(chunk);
      done(null, chunk);
    },
  });
  return { tap, digest: () => h.digest('hex'), sha512: () => h512.digest('hex') };
}

/** Samples RSS while `fn` runs; returns the peak growth over the start. */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; growth: number }> {
  global.gc?.();
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, growth: peak - start };
  } finally {
    clearInterval(timer);
  }
}

let cloud: RunningCloud;
beforeAll(async () => {
  cloud = await startWholeCloud();
});
afterAll(async () => {
  await cloud?.close();
});

describe('Glance → Swift streaming of a 1 GiB image', () => {
  it('uploads, streams into an SLO and reads back the same sha256 with bounded memory', async () => {
    const c = clientsOf(cloud, 'RegionOne', 'demo', { segmentSize: SEGMENT });
    const image = await c.glance.createImage({ name: 'big', disk_format: 'raw', container_format: 'bare' });

    const source = hashing();
    const t0 = performance.now();
    const upload = await peakRssGrowth(async () => {
      const body = Readable.from(gibibyte()).pipe(source.tap);
      await c.glance.uploadImage(image.id, body, { size: SIZE });
    });
    const uploadSeconds = (performance.now() - t0) / 1000;
    const sourceSha = source.digest();
    const active = await c.glance.getImage(image.id);
    expect(active).toMatchObject({ status: 'active', size: SIZE });
    // Glance's multihash (os_hash_algo sha512) of what it received equals ours of what we sent.
    expect(active.os_hash_value).toBe(source.sha512());

    await c.swift.createContainer('images');
    const viaGlance = hashing();
    const t1 = performance.now();
    const copy = await peakRssGrowth(async () => {
      const download = await c.glance.downloadImage(image.id);
      expect(download?.size).toBe(SIZE);
      return c.swift.putObject('images', 'big.raw', download!.stream.pipe(viaGlance.tap), { size: SIZE });
    });
    const copySeconds = (performance.now() - t1) / 1000;
    expect(viaGlance.digest()).toBe(sourceSha);
    expect(copy.value.size).toBe(SIZE);
    expect(copy.value.segments).toHaveLength(Math.ceil(SIZE / SEGMENT));

    const info = await c.swift.headObject('images', 'big.raw');
    expect(info).toMatchObject({ size: SIZE, staticLargeObject: true });
    const back = hashing();
    const t2 = performance.now();
    const read = await peakRssGrowth(async () => {
      const got = await c.swift.getObject('images', 'big.raw');
      await pipeline(got.stream, back.tap, async (s: AsyncIterable<Buffer>) => {
        for await (const _ of s);
      });
    });
    const readSeconds = (performance.now() - t2) / 1000;
    expect(back.digest()).toBe(sourceSha);

    console.info(
      `1 GiB: upload to Glance ${uploadSeconds.toFixed(1)} s (rss +${Math.round(upload.growth / MiB)} MiB), ` +
        `Glance→Swift SLO ${copySeconds.toFixed(1)} s (rss +${Math.round(copy.growth / MiB)} MiB), ` +
        `Swift read ${readSeconds.toFixed(1)} s (rss +${Math.round(read.growth / MiB)} MiB)`,
    );
    // The simulator runs in this process too, so this bounds clients AND services.
    for (const g of [upload.growth, copy.growth, read.growth]) expect(g).toBeLessThan(200 * MiB);
  }, 300_000);
});

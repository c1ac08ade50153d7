/**
 * Glance's file store in the simulator: image bytes streamed to a file while
 * md5 (the legacy `checksum`) and sha512 (the multihash `os_hash_value`) are
 * computed on the way, the way glance_store's filesystem driver does. Nothing
 * here holds more than one chunk of an image in memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface StoredData {
  size: number;
  checksum: string;
  osHashValue: string;
}

/** Passes bytes through while hashing and counting them. */
class Hasher extends Transform {
  readonly md5: Hash = createHash('md5');
  readonly sha512: Hash = createHash('sha512');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.md5.update(chunk);
    this.sha512.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
}

/**
 * Writes a stream to `dest` (through a temporary name, so a broken upload
 * never leaves a half file under the image's name) and returns its hashes.
 */
export async function storeStream(source: NodeJS.ReadableStream, dest: string): Promise<StoredData> {
  const partial = `${dest}.partial`;
  const hasher = new Hasher();
  try {
    await pipeline(source, hasher, createWriteStream(partial));
    await rename(partial, dest);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return { size: hasher.size, checksum: hasher.md5.digest('hex'), osHashValue: hasher.sha512.digest('hex') };
}

export function storeFile(src: string, dest: string): Promise<StoredData> {
  return storeStream(createReadStream(src, { highWaterMark: 1 << 20 }), dest);
}

/**
 * Deterministic pseudo-random bytes (xorshift32) of `size` bytes, produced
 * chunk by chunk: the seeded public image has real, reproducible content.
 */
export function* deterministicChunks(size: number, seed = 0x2545f491, chunk = 1 << 20): Generator<Buffer> {
  let x = seed >>> 0;
  for (let done = 0; done < size; done += chunk) {
    const n = Math.min(chunk, size - done);
    const buf = Buffer.allocUnsafe(n);
    for (let i = 0; i + 4 <= n; i += 4) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      buf.writeUInt32LE(x, i);
    }
    for (let i = n - (n % 4); i < n; i++) buf[i] = i & 0xff;
    yield buf;
  }
}

/**
 * Volume bytes for the simulated Cinder: sparse raw files, like the NFS
 * driver's `volume-<id>` files. Copies read 1 MiB at a time and skip writing
 * all-zero blocks, so a 1 GiB volume with a 4 MiB image in it stays a 4 MiB
 * file on disk and nothing holds more than a block in memory. Writes go into
 * the existing file (never a rename), so a hard-linked replica sees them.
 */

import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { type FileHandle, open, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const GiB = 1024 ** 3;
const execFileAsync = promisify(execFile);
const BLOCK = 1 << 20;
const ZERO = Buffer.alloc(BLOCK);

function isZero(buf: Buffer, len: number): boolean {
  return len === BLOCK ? buf.equals(ZERO) : buf.subarray(0, len).equals(ZERO.subarray(0, len));
}

/** Opens for writing without replacing the inode (keeps hard links). */
async function openInPlace(path: string): Promise<FileHandle> {
  return open(path, constants.O_RDWR | constants.O_CREAT);
}

/** The backing file of a volume, under the site's data directory (`<dataDir>/<region>`). */
export function volumeFile(siteDataDir: string, volumeId: string): string {
  return join(siteDataDir, 'cinder', 'volumes', `volume-${volumeId}`);
}

/**
 * Writes `bytes` at `offset` into a volume's backing file, in place: what a
 * guest writing onto its attached disk would leave there. The simulator runs
 * no guest OS, so the quickstart puts its demo application's data on the
 * volumes this way.
 */
export async function writeVolumeBytes(path: string, bytes: Buffer, offset = 0): Promise<void> {
  const fh = await open(path, constants.O_RDWR);
  try {
    await fh.write(bytes, 0, bytes.length, offset);
  } finally {
    await fh.close();
  }
}

/** A sparse file of `bytes` (all zeros, no blocks allocated). */
export async function createSparse(path: string, bytes: number): Promise<void> {
  const fh = await openInPlace(path);
  try {
    await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
}

/** Grows (or shrinks) the file to `bytes`, in place. */
export async function resize(path: string, bytes: number): Promise<void> {
  await createSparse(path, bytes);
}

/**
 * Makes `dst` (kept as the same inode) `dstBytes` long, holding `src`'s bytes
 * followed by zeros when `src` is shorter (a volume bigger than its image or
 * snapshot); longer sources are cut at `dstBytes`.
 */
export async function sparseCopy(src: string, dst: string, dstBytes: number): Promise<void> {
  // GNU cp finds the data with SEEK_DATA/SEEK_HOLE: a 1 GiB volume with a few MiB written copies at
  // once instead of being read whole on the simulator's one event loop. Elsewhere: the loop below.
  try {
    await execFileAsync('cp', ['--sparse=always', '--', src, dst]);
    await truncate(dst, dstBytes);
    return;
  } catch {
    // no GNU cp here: read it block by block
  }
  const input = await open(src, 'r');
  const output = await openInPlace(dst);
  try {
    await output.truncate(0);
    await output.truncate(dstBytes);
    const buf = Buffer.allocUnsafe(BLOCK);
    for (let pos = 0; pos < dstBytes; ) {
      const { bytesRead } = await input.read(buf, 0, Math.min(BLOCK, dstBytes - pos), pos);
      if (bytesRead === 0) break;
      if (!isZero(buf, bytesRead)) await output.write(buf, 0, bytesRead, pos);
      pos += bytesRead;
    }
  } finally {
    await input.close();
    await output.close();
  }
}

/**
 * Writes a stream into `dst` from offset `start`; with `clear` the file is
 * first emptied to `dstBytes` of zeros (a restore writes the first object
 * with `clear`, the next ones at their offsets without). All-zero pieces are
 * skipped: they are holes already. Returns the number of bytes the stream carried.
 */
export async function sparseWriteStream(
  chunks: AsyncIterable<Buffer>,
  dst: string,
  dstBytes: number,
  clear = true,
  start = 0,
): Promise<number> {
  const output = await openInPlace(dst);
  let pos = start;
  try {
    if (clear) {
      await output.truncate(0);
      await output.truncate(dstBytes);
    }
    for await (const chunk of chunks) {
      // Zero pieces are holes already (the file was cleared); pieces larger than a block are just written.
      const zero = chunk.length <= BLOCK && chunk.equals(ZERO.subarray(0, chunk.length));
      if (!zero) await output.write(chunk, 0, chunk.length, pos);
      pos += chunk.length;
    }
  } finally {
    await output.close();
  }
  return pos - start;
}

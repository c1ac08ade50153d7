/** Bytes in tests: the SHA-256 of a buffer, and a whole stream read into one buffer. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export async function readAll(stream: Readable | AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { swiftService } from '../../../services/cloudsim/swift.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { SwiftClient } from '../../../services/common/openstack/swift.js';

const MiB = 1024 * 1024;
const SIZE = 512 * MiB;

let cloud: RunningCloud;
let session: KeystoneSession;
beforeAll(async () => {
  cloud = await startCloud({ services: [swiftService] });
  session = new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: { type: 'password', username: 'demo', password: 'DEMO_PASS', userDomainName: 'Default' },
    scope: { projectName: 'demo', projectDomainName: 'Default' },
    regionName: 'RegionTwo',
  });
});
afterAll(async () => {
  await session?.close();
  await cloud?.close();
});

/** `size` bytes of random data, 1 MiB at a time, hashed as they are produced. */
function generated(size: number) {
  const hash = createHash('sha256');
  const block = randomBytes(MiB);
  let produced = 0;
  const stream = Readable.from(
    (function* () {
      while (produced < size) {
        const n = Math.min(MiB, size - produced);
        // Vary every block so a segment mix-up would change the digest.
        const chunk = Buffer.from(block.subarray(0, n));
        chunk.writeUInt32BE(produced / MiB, 0);
        hash.update(chunk);
        produced += n;
        yield chunk;
      }
    })(),
  );
  return { stream, digest: () => hash.digest('hex') };
}

/** Peak RSS while `work` runs, sampled every 20 ms. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

async function sha256Of(stream: Readable): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    hash.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { digest: hash.digest('hex'), size };
}

describe('Swift streaming with bounded memory', () => {
  it('uploads and downloads 512 MiB through the client without holding it in memory', async () => {
    const swift = new SwiftClient(session);
    await swift.createContainer('stream-big');
    const src = generated(SIZE);
    const up = await peakRss(() => swift.putObject('stream-big', 'disk.raw', src.stream, { size: SIZE }));
    expect(up.result.size).toBe(SIZE);
    expect(up.growth).toBeLessThan(150 * MiB);
    const down = await peakRss(async () =>
      sha256Of((await swift.getObject('stream-big', 'disk.raw')).stream),
    );
    expect(down.result).toEqual({ digest: src.digest(), size: SIZE });
    expect(down.growth).toBeLessThan(150 * MiB);
  });

  it('streams a 512 MiB SLO of unknown size in segments and back', async () => {
    const swift = new SwiftClient(session, { segmentSize: 200 * MiB });
    await swift.createContainer('stream-slo');
    const src = generated(SIZE);
    const up = await peakRss(() => swift.putObject('stream-slo', 'disk.raw', src.stream));
    expect(up.result.segments?.map((s) => s.size_bytes)).toEqual([200 * MiB, 200 * MiB, 112 * MiB]);
    expect(up.growth).toBeLessThan(150 * MiB);
    const down = await peakRss(async () =>
      sha256Of((await swift.getObject('stream-slo', 'disk.raw')).stream),
    );
    expect(down.result).toEqual({ digest: src.digest(), size: SIZE });
    expect(down.growth).toBeLessThan(150 * MiB);
  });
});

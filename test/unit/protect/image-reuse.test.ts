/**
 * image-copy's side of reuse across checkpoints, with a bank whose history
 * is faked (the engine's lookup is exercised by test/integration/protect-reuse):
 * what it asks the bank, when it references instead of copying, and that it
 * copies whenever the earlier copy is not the same image or is gone.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import imageCopy from '../../../plugins/image-copy/index.js';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { allServices } from '../../../services/cloudsim/services.js';
import type {
  BankReference,
  EarlierMatch,
  EarlierObject,
  SiteClients,
} from '../../../services/engine/plugin-api.js';
import { DirBank, protectContext, randomImage, siteClients } from './plugin-helpers.js';

vi.setConfig({ testTimeout: 60_000 });
const SERVER = 'OS::Nova::Server';
let cloud: RunningCloud;
let primary: SiteClients;
let backup: SiteClients;

beforeAll(async () => {
  cloud = await startCloud({ services: allServices });
  primary = siteClients(cloud, 'RegionOne');
  backup = siteClients(cloud, 'RegionTwo');
});
afterAll(async () => {
  await cloud?.close();
});

async function boot(name: string, imageRef: string): Promise<string> {
  const created = await primary.nova.createServer({ name, flavorRef: '1', imageRef, networks: 'none' });
  await primary.nova.waitForServer(created.id, 'ACTIVE', { intervalMs: 20, timeoutMs: 30_000 });
  return created.id;
}

/** A bank with one earlier checkpoint whose image-copy step saved `saved`, holding `object`. */
class HistoryBank extends DirBank {
  referenced: BankReference[] = [];
  asked: string[] = [];
  constructor(
    readonly earlier: { saved: Record<string, unknown>; ref: BankReference },
    readonly gone = false,
  ) {
    super();
  }
  async findEarlier(object: string, match: EarlierMatch): Promise<EarlierObject | undefined> {
    this.asked.push(object);
    const { saved, ref } = this.earlier;
    if (ref.object !== object || !match(saved, { name: 'server-x', action: 'image-copy' })) return undefined;
    return { ...ref, saved };
  }
  async reference(ref: BankReference): Promise<void> {
    if (this.gone) throw new Error(`bank: cannot reference ${ref.container}/${ref.object}: is missing`);
    this.referenced.push(ref);
  }
}

describe('image-copy across checkpoints', () => {
  it('references an earlier copy of the same image and checksum instead of copying it', async () => {
    const image = await randomImage(primary, 'reuse-unit');
    const glance = await primary.glance.getImage(image.id);
    const server = await boot('reuse-unit-1', image.id);
    const object = `images/${image.id}.img`;
    const ref = {
      container: 'app_20261125T000000Z',
      object,
      size: image.bytes.length,
      sha256: image.sha256,
      checkpoint_id: 'cp-old',
    };
    const bank = new HistoryBank({
      saved: {
        image_id: image.id,
        checksum: glance.checksum,
        object,
        size: image.bytes.length,
        shared: false,
      },
      ref,
    });
    const ctx = protectContext(
      { primary, backup },
      bank,
      { id: server, type: SERVER },
      {},
      undefined,
      'cp-new',
    );
    const saved = (await imageCopy.protect!(ctx)) as Record<string, unknown>;
    expect(saved).toMatchObject({ image_id: image.id, object, reused_from: ref.container, shared: false });
    expect(bank.referenced).toEqual([ref]);
    // Only the small metadata object is written: no image bytes.
    expect(bank.puts).toEqual([`images/${image.id}.json`]);
    expect(await bank.getJson(`images/${image.id}.json`)).toMatchObject({
      id: image.id,
      size: image.bytes.length,
      checksum: glance.checksum,
    });
    expect(ctx.rec.progress.at(-1)).toMatchObject({
      percent: 100,
      detail: { bytes_done: 0, reused_from: ref.container },
    });
  });

  it('copies when the earlier copy has another checksum (the image was re-uploaded)', async () => {
    const image = await randomImage(primary, 'reuse-unit-changed');
    const server = await boot('reuse-unit-2', image.id);
    const object = `images/${image.id}.img`;
    const bank = new HistoryBank({
      saved: { image_id: image.id, checksum: 'd41d8cd98f00b204e9800998ecf8427e', object },
      ref: { container: 'old', object, size: 1, sha256: 'x', checkpoint_id: 'cp-old' },
    });
    const ctx = protectContext(
      { primary, backup },
      bank,
      { id: server, type: SERVER },
      {},
      undefined,
      'cp-c',
    );
    const saved = (await imageCopy.protect!(ctx)) as Record<string, unknown>;
    expect(saved.reused_from).toBeUndefined();
    expect(bank.asked).toEqual([object]);
    expect(bank.referenced).toEqual([]);
    expect(bank.stat(object)?.sha256).toBe(image.sha256);
  });

  it('copies when the earlier copy is gone by the time it would be referenced', async () => {
    const image = await randomImage(primary, 'reuse-unit-gone');
    const glance = await primary.glance.getImage(image.id);
    const server = await boot('reuse-unit-3', image.id);
    const object = `images/${image.id}.img`;
    const bank = new HistoryBank(
      {
        saved: { image_id: image.id, checksum: glance.checksum, object },
        ref: {
          container: 'old',
          object,
          size: image.bytes.length,
          sha256: image.sha256,
          checkpoint_id: 'cp',
        },
      },
      true,
    );
    const ctx = protectContext(
      { primary, backup },
      bank,
      { id: server, type: SERVER },
      {},
      undefined,
      'cp-g',
    );
    const saved = (await imageCopy.protect!(ctx)) as Record<string, unknown>;
    expect(saved.reused_from).toBeUndefined();
    expect(bank.stat(object)?.sha256).toBe(image.sha256);
    expect(ctx.rec.logs.some((l) => l.includes('old/images/'))).toBe(true);
  });
});

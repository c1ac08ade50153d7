/**
 * What the plugin tests share: the two-site simulator with the demo tenant's
 * clients at RegionOne (primary) and RegionTwo (backup), a bank kept in a
 * temp directory (sha256 computed on the way in, checked on the way out, as
 * the engine's bank does), and step contexts that record progress and logs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RunningCloud } from '../../../services/cloudsim/cloud.js';
import { CinderClient } from '../../../services/common/openstack/cinder.js';
import { GlanceClient } from '../../../services/common/openstack/glance.js';
import { HeatClient } from '../../../services/common/openstack/heat.js';
import { NeutronClient } from '../../../services/common/openstack/neutron.js';
import { NovaClient } from '../../../services/common/openstack/nova.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { SwiftClient } from '../../../services/common/openstack/swift.js';
import type {
  BankObject,
  BankReader,
  BankWriter,
  CheckpointContext,
  ProtectContext,
  RecoverContext,
  SiteClients,
  StepContext,
  WrittenObject,
} from '../../../services/engine/plugin-api.js';

export const DEMO = { user: 'demo', password: 'DEMO_PASS', project: 'demo' };
export const ADMIN = { user: 'admin', password: 'ADMIN_PASS', project: 'admin' };

export function siteClients(
  cloud: RunningCloud,
  region: string,
  who: { user: string; password: string; project: string } = DEMO,
): SiteClients & { session: KeystoneSession } {
  const session = new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: { type: 'password', username: who.user, password: who.password, userDomainName: 'Default' },
    scope: { projectName: who.project, projectDomainName: 'Default' },
    regionName: region,
    interface: 'public',
    retryDelayMs: 5,
    // Keep-alive: undici 7.30's HTTP/1 parser crashes the process (uncatchable `assert(!this.paused)`,
    // nodejs/undici#5360, fixed only in undici 8) when a server closes the connection while a download
    // is paused by backpressure, which `Connection: close` per request makes likely for bank writes.
    keepAlive: true,
  });
  const projectId =
    who.project === 'demo'
      ? cloud.demo.projectId
      : (cloud.keystone.store.findProject({ name: who.project, domainId: 'default' })?.id ?? '');
  return {
    session,
    name: region === 'RegionOne' ? 'primary' : 'backup',
    region,
    projectId,
    nova: new NovaClient(session, { region }),
    cinder: new CinderClient(session, { region }),
    glance: new GlanceClient(session, { region }),
    neutron: new NeutronClient(session, { region }),
    heat: new HeatClient(session, { region }),
    swift: new SwiftClient(session, { region }),
  };
}

/** A bank in a temp directory: the manifest is an in-memory map of name -> size + sha256. */
export class DirBank implements BankWriter, BankReader {
  readonly container = `test_${randomBytes(6).toString('hex')}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'bank-'));
  readonly objects = new Map<string, BankObject>();
  puts: string[] = [];
  /** Called before each put; throw to make the bank fail, or abort a controller. */
  beforePut?: (name: string) => void;

  async put(name: string, data: Readable | Buffer | string): Promise<WrittenObject> {
    this.puts.push(name);
    this.beforePut?.(name);
    const path = join(this.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    const hash = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    const src = typeof data === 'string' || Buffer.isBuffer(data) ? Readable.from([Buffer.from(data)]) : data;
    await pipeline(
      src,
      new Transform({
        transform(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          md5.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      }),
      createWriteStream(path),
    );
    const obj = { name, size, sha256: hash.digest('hex') };
    this.objects.set(name, obj);
    return { ...obj, md5: md5.digest('hex') };
  }

  putJson(name: string, value: unknown): Promise<WrittenObject> {
    return this.put(name, JSON.stringify(value));
  }

  async get(name: string): Promise<Readable> {
    const rec = this.objects.get(name);
    if (!rec) throw new Error(`object ${name} is not in the checkpoint`);
    const hash = createHash('sha256');
    const check = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        const got = hash.digest('hex');
        cb(
          got === rec.sha256
            ? null
            : new Error(`object ${name} has sha256 ${got}, manifest says ${rec.sha256}`),
        );
      },
    });
    const file = createReadStream(join(this.dir, name));
    file.on('error', (err) => check.destroy(err));
    return file.pipe(check);
  }

  async getJson<T = unknown>(name: string): Promise<T> {
    if (!this.objects.has(name)) throw new Error(`object ${name} is not in the checkpoint`);
    return JSON.parse(await readFile(join(this.dir, name), 'utf8')) as T;
  }

  stat(name: string): BankObject | undefined {
    return this.objects.get(name);
  }

  list(prefix = ''): BankObject[] {
    return [...this.objects.values()].filter((o) => o.name.startsWith(prefix));
  }
}

export interface Recorded {
  progress: Array<{ percent: number; detail?: Record<string, unknown> }>;
  logs: string[];
  controller: AbortController;
}

function stepContext(
  resource: { id: string; type: string },
  options: Record<string, unknown>,
  rec: Recorded,
): StepContext {
  const log = (level: string) => (obj: object | string, msg?: string) =>
    rec.logs.push(`${level}: ${typeof obj === 'string' ? obj : `${msg ?? ''} ${JSON.stringify(obj)}`}`);
  return {
    executionId: 'exec-1',
    stepName: `protect-${resource.id}`,
    resource,
    options,
    params: {},
    dependencies: {},
    attempt: 1,
    progress: (percent, detail) => rec.progress.push({ percent, detail }),
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    signal: rec.controller.signal,
  };
}

export function recorder(): Recorded {
  return { progress: [], logs: [], controller: new AbortController() };
}

export function protectContext(
  sites: { primary: SiteClients; backup: SiteClients },
  bank: DirBank,
  resource: { id: string; type: string },
  options: Record<string, unknown> = {},
  rec = recorder(),
  checkpointId = 'cp-1',
): ProtectContext & { rec: Recorded } {
  return { ...stepContext(resource, options, rec), ...sites, bank, checkpointId, rec };
}

export function recoverContext(
  backup: SiteClients,
  bank: DirBank,
  resource: { id: string; type: string },
  saved: unknown,
  options: Record<string, unknown> = {},
  rec = recorder(),
  checkpointId = 'cp-1',
): RecoverContext & { rec: Recorded } {
  return {
    ...stepContext(resource, options, rec),
    backup,
    bank,
    checkpointId,
    saved: saved as Record<string, unknown>,
    rec,
  };
}

export function checkpointContext(
  sites: { primary: SiteClients; backup: SiteClients },
  bank: DirBank,
  resource: { id: string; type: string },
  saved: unknown,
): CheckpointContext {
  return {
    ...stepContext(resource, {}, recorder()),
    ...sites,
    bank,
    checkpointId: 'cp-1',
    saved: saved as Record<string, unknown>,
  };
}

export async function sha256OfStream(s: AsyncIterable<Uint8Array>): Promise<string> {
  const h = createHash('sha256');
  for await (const c of s) h.update(c);
  return h.digest('hex');
}

export function sha256OfFile(path: string): Promise<string> {
  return sha256OfStream(createReadStream(path, { highWaterMark: 1 << 20 }));
}

/** A private image at the site with `size` random bytes; returns its id and the bytes' sha256. */
export async function randomImage(site: SiteClients, name: string, size = 3 * 1024 * 1024 + 17) {
  const bytes = randomBytes(size);
  const img = await site.glance.createImage({
    name,
    disk_format: 'raw',
    container_format: 'bare',
    properties: { purpose: 'dr-test' },
  });
  await site.glance.uploadImage(img.id, bytes);
  await site.glance.waitForImageActive(img.id, { intervalMs: 20, timeoutMs: 30_000 });
  return { id: img.id, sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
}

export async function imageSha256(site: SiteClients, id: string): Promise<string> {
  const dl = await site.glance.downloadImage(id);
  if (!dl) throw new Error(`image ${id} has no data`);
  return sha256OfStream(dl.stream);
}

export async function writeTemp(name: string, data: Buffer): Promise<string> {
  const p = join(mkdtempSync(join(tmpdir(), 'plugin-test-')), name);
  await writeFile(p, data);
  return p;
}

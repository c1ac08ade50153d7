import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DragonClient } from '../../../services/cli/client.js';
import { type ExecutionProgress, waitForExecution } from '../../../services/cli/wait.js';
import { type CliWorld, startCliWorld } from '../../support/cli-harness.js';
import { type FakeDragon, startFakeDragon } from '../../support/fake-dragon-api.js';

let w: CliWorld;
beforeAll(async () => {
  w = await startCliWorld();
});
afterAll(() => w.close());

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasOpenssl())('TLS options', () => {
  let dir: string;
  let secure: FakeDragon;
  let cacert: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dragon-tls-'));
    cacert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        cacert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    secure = await startFakeDragon({
      tokens: w.tokens,
      region: 'RegionOne',
      tls: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(cacert, 'utf8') },
    });
    secure.addPolicy({ name: 'behind-tls' });
  });
  afterAll(async () => {
    await secure.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ['--os-token', 'static-admin-token', '--os-endpoint', secure.url];

  it('refuses a certificate it cannot verify', async () => {
    const r = await w.run([...base(), 'policy', 'list'], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^Unable to establish connection to ${secure.url}/v1/policies: `));
  });

  it('trusts the CA given with --os-cacert or OS_CACERT', async () => {
    const r = await w.run(
      [...base(), '--os-cacert', cacert, 'policy', 'list', '-f', 'value', '-c', 'Name'],
      {},
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('behind-tls\n');
    const env = await w.run([...base(), 'policy', 'list', '-f', 'value', '-c', 'Name'], {
      OS_CACERT: cacert,
    });
    expect(env.stdout).toBe('behind-tls\n');
  });

  it('skips verification with --insecure', async () => {
    const r = await w.run([...base(), '--insecure', 'policy', 'list', '-f', 'value', '-c', 'Name'], {});
    expect(r.stdout).toBe('behind-tls\n');
    const env = await w.run([...base(), 'policy', 'list', '-f', 'value', '-c', 'Name'], {
      OS_INSECURE: 'true',
    });
    expect(env.stdout).toBe('behind-tls\n');
  });
});

describe('connection failures', () => {
  it('names the URL it could not reach', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const r = await w.run(['policy', 'list'], { OS_TOKEN: 't', OS_ENDPOINT: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `Unable to establish connection to http://127.0.0.1:${port}/v1/policies: ECONNREFUSED\n`,
    );
  });
});

describe('waitForExecution', () => {
  const client = () =>
    new DragonClient({
      token: 'static-admin-token',
      endpoint: w.regionOne.url,
      fetch: (u, i) => fetch(u, i),
    });

  it('reports each change once and returns the final execution', async () => {
    const e = w.regionOne.addExecution({ status: 'pending' });
    w.regionOne.scripts.set(e.id, [
      { status: 'pending' },
      { status: 'running', progress: 10 },
      { status: 'running', progress: 10 },
      { status: 'running', progress: 60 },
      { status: 'succeeded', progress: 100 },
    ]);
    const seen: ExecutionProgress[] = [];
    const final = await waitForExecution(client(), e.id, (p) => seen.push(p), { intervalMs: 1 });
    expect(final.status).toBe('succeeded');
    expect(seen.map((p) => `${p.status}:${p.progress}`)).toEqual([
      'pending:0',
      'running:10',
      'running:60',
      'succeeded:100',
    ]);
  });

  it('gives up after the timeout', async () => {
    const e = w.regionOne.addExecution({ status: 'running' });
    await expect(
      waitForExecution(client(), e.id, undefined, { intervalMs: 5, timeoutMs: 20 }),
    ).rejects.toThrow(`Timed out waiting for execution ${e.id}`);
  });
});

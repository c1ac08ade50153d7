/**
 * Debian's python3-swiftclient and python3-openstackclient against the
 * simulated Swift, with the clouds.yaml the simulator writes. Fails (never
 * skips) where those clients are missing: `npm test` installs them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloudSim, startCloudSim } from '../../../services/cloudsim/launch.js';
import { swiftService } from '../../../services/cloudsim/swift.js';
import { requireOpenStackClients } from '../../support/services.js';

const run = promisify(execFile);
let sim: RunningCloudSim;
let dir: string;

beforeAll(async () => {
  requireOpenStackClients();
  dir = mkdtempSync(join(tmpdir(), 'swift-realclients-'));
  sim = await startCloudSim({ services: [swiftService], cloudsYaml: join(dir, 'clouds.yaml') });
});
afterAll(async () => {
  await sim?.close();
});

// Debian's python, not a pyenv shim that lacks the OpenStack modules.
const env = () => ({
  PATH: '/usr/sbin:/usr/bin:/bin',
  HOME: dir,
  OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml'),
});

async function openstack(...args: string[]): Promise<string> {
  const { stdout } = await run('/usr/bin/openstack', ['--os-cloud', 'sim-primary', ...args], {
    env: env(),
    cwd: dir,
  });
  return stdout;
}

async function swift(...args: string[]): Promise<string> {
  const c = sim.cloudsYaml!.clouds['sim-backup'];
  const { stdout } = await run(
    '/usr/bin/swift',
    [
      '--auth-version',
      '3',
      '--os-auth-url',
      c.auth.auth_url,
      '--os-username',
      c.auth.username,
      '--os-password',
      c.auth.password,
      '--os-project-name',
      c.auth.project_name,
      '--os-user-domain-name',
      'Default',
      '--os-project-domain-name',
      'Default',
      '--os-region-name',
      c.region_name,
      ...args,
    ],
    { env: env(), cwd: dir },
  );
  return stdout;
}

describe('real OpenStack clients against the simulated Swift', () => {
  it('openstack container/object commands', async () => {
    writeFileSync(join(dir, 'hello.txt'), 'hello from the simulator\n');
    await openstack('container', 'create', 'osc');
    await openstack('object', 'create', 'osc', 'hello.txt');
    expect(await openstack('object', 'list', 'osc', '-f', 'value')).toBe('hello.txt\n');
    const show = JSON.parse(await openstack('container', 'show', 'osc', '-f', 'json')) as Record<
      string,
      unknown
    >;
    expect(show).toMatchObject({ container: 'osc', object_count: '1', bytes_used: '25' });
    await openstack('object', 'save', '--file', join(dir, 'saved.txt'), 'osc', 'hello.txt');
    expect(readFileSync(join(dir, 'saved.txt'), 'utf8')).toBe('hello from the simulator\n');
  });

  it('swift upload as SLO, stat, download, ACL and delete with segments', async () => {
    const data = Buffer.alloc(2_500_000, 7);
    data.write('marker', 1_234_567);
    writeFileSync(join(dir, 'big.bin'), data);
    await swift('upload', '-S', '1000000', '--use-slo', 'bank', 'big.bin');
    expect(await swift('list', 'bank_segments')).toMatch(/big\.bin\/slo\/.*\/00000002/);
    const stat = await swift('stat', 'bank', 'big.bin');
    expect(stat).toMatch(/Content Length: 2500000/);
    expect(stat).toMatch(/X-Static-Large-Object: True/);
    await swift('download', 'bank', 'big.bin', '-o', join(dir, 'big.out'));
    expect(readFileSync(join(dir, 'big.out')).equals(data)).toBe(true);
    await swift('post', '-r', '.r:*,.rlistings', 'bank');
    expect(await swift('stat', 'bank')).toMatch(/Read ACL: \.r:\*,\.rlistings/);
    await swift('delete', 'bank', 'big.bin');
    expect(await swift('list', 'bank_segments')).toBe('');
    const caps = await swift('capabilities');
    expect(caps).toMatch(/slo/);
    expect(caps).toMatch(/max_manifest_segments: 1000/);
  });
});

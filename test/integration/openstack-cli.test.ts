/**
 * The real `openstack` command (Debian's python3-openstackclient with its
 * glance/cinder/neutron/nova/heat/swift plugins — clients nobody here wrote)
 * against the whole simulator started like `dragon-cloudsim` does, through
 * the clouds.yaml it writes. Every command's output is checked against what
 * the simulator holds. Never skipped: `npm test` installs the clients.
 *
 * Each call costs ~1.5-2 s of Python start-up, so independent chains run
 * side by side and the file keeps to ~35 calls.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../../services/cloudsim/cloud.js';
import { SEED_IMAGE_NAME } from '../../services/cloudsim/glance.js';
import { type RunningCloudSim, startCloudSim } from '../../services/cloudsim/launch.js';
import { GlanceClient } from '../../services/common/openstack/glance.js';
import { KeystoneSession } from '../../services/common/openstack/session.js';
import { SwiftClient } from '../../services/common/openstack/swift.js';
import { requireOpenStackClients } from '../support/services.js';

const execFileAsync = promisify(execFile);
const OPENSTACK = '/usr/bin/openstack';
const SERVICE_TYPES = [
  'identity',
  'object-store',
  'image',
  'volumev3',
  'network',
  'compute',
  'orchestration',
];

let sim: RunningCloudSim;
let cloud: RunningCloud;
let dir: string;
let calls = 0;

interface CliOptions {
  cloud?: 'sim-primary' | 'sim-admin';
  region?: 'RegionOne' | 'RegionTwo';
}

/** Runs `openstack --os-cloud <cloud> [--os-region-name R] ...args` with Debian's python only. */
async function osc(args: string[], o: CliOptions = {}): Promise<string> {
  calls++;
  const argv = ['--os-cloud', o.cloud ?? 'sim-primary'];
  if (o.region) argv.push('--os-region-name', o.region);
  try {
    const { stdout } = await execFileAsync(OPENSTACK, [...argv, ...args], {
      env: {
        PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: dir,
        OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml'),
        PYTHONWARNINGS: 'ignore',
      },
      cwd: dir,
      timeout: 90_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openstack ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** The JSON document of `-f json` output (`--wait` prints progress and events before it). */
async function json<T = Record<string, unknown>>(args: string[], o: CliOptions = {}): Promise<T> {
  const out = (await osc([...args, '-f', 'json'], o)).replace(/\r/g, '\n');
  return JSON.parse(out.slice(out.search(/^[{[]/m))) as T;
}

type Row = Record<string, unknown>;
const column = (rows: Row[], key: string) => rows.map((r) => r[key]);

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const STACK = `
heat_template_version: 2018-08-31
resources:
  net: {type: OS::Neutron::Net, properties: {name: cli-net}}
  subnet: {type: OS::Neutron::Subnet, properties: {name: cli-subnet, network: {get_resource: net}, cidr: 10.30.0.0/24}}
  router: {type: OS::Neutron::Router, properties: {name: cli-router, external_gateway_info: {network: public}}}
  router_if: {type: OS::Neutron::RouterInterface, properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}}
  port: {type: OS::Neutron::Port, properties: {name: cli-port, network: {get_resource: net}, fixed_ips: [{subnet: {get_resource: subnet}}]}}
  fip: {type: OS::Neutron::FloatingIP, properties: {floating_network: public, port_id: {get_resource: port}}}
  server: {type: OS::Nova::Server, properties: {name: cli-stack-server, flavor: m1.tiny, image: ${SEED_IMAGE_NAME}, networks: [{port: {get_resource: port}}]}}
outputs:
  server_ip: {value: {get_attr: [server, first_address]}}
  floating_ip: {value: {get_attr: [fip, floating_ip_address]}}
`;

beforeAll(async () => {
  requireOpenStackClients();
  dir = mkdtempSync(join(tmpdir(), 'openstack-cli-'));
  sim = await startCloudSim({ cloudsYaml: join(dir, 'clouds.yaml') });
  cloud = sim.cloud as RunningCloud;
  writeFileSync(join(dir, 'stack.yaml'), STACK);
  writeFileSync(join(dir, 'hello.txt'), 'hello from the real openstack client\n');
});
afterAll(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function demoSession(region = 'RegionOne') {
  return new KeystoneSession({
    authUrl: `${cloud.keystone.url}/v3`,
    auth: { type: 'password', username: 'demo', password: 'DEMO_PASS', userDomainName: 'Default' },
    scope: { projectName: 'demo', projectDomainName: 'Default' },
    regionName: region,
  });
}

describe('the real openstack CLI against the whole simulator', () => {
  it('identity, compute, image, volume, network, orchestration and object commands in both regions', async () => {
    const t0 = performance.now();

    // --- Identity and catalog (demo and admin), read-only listings of both regions.
    const [token, catalog, endpoints, images, imagesTwo, groups, networksTwo] = await Promise.all([
      json(['token', 'issue']),
      json<Row[]>(['catalog', 'list']),
      json<Row[]>(['endpoint', 'list'], { cloud: 'sim-admin' }),
      json<Row[]>(['image', 'list']),
      json<Row[]>(['image', 'list'], { region: 'RegionTwo' }),
      json<Row[]>(['security', 'group', 'list']),
      json<Row[]>(['network', 'list'], { region: 'RegionTwo' }),
    ]);
    expect(token.project_id).toBe(cloud.demo.projectId);
    expect(Date.parse(String(token.expires))).toBeGreaterThan(Date.now());
    expect(column(catalog, 'Type')).toEqual(expect.arrayContaining(SERVICE_TYPES));
    for (const type of SERVICE_TYPES)
      for (const region of ['RegionOne', 'RegionTwo'])
        expect(
          endpoints.some(
            (e) => e['Service Type'] === type && e.Region === region && e.Interface === 'public',
          ),
          `${type} ${region}`,
        ).toBe(true);
    expect(column(images, 'Name')).toContain(SEED_IMAGE_NAME);
    expect(column(imagesTwo, 'Name')).toContain(SEED_IMAGE_NAME);
    expect(column(groups, 'Name')).toContain('default');
    expect(column(networksTwo, 'Name')).toContain('public');

    // A container made through Dragon's own client, then used by the CLI.
    await new SwiftClient(demoSession()).createContainer('cli');

    const volumeChain = async () => {
      const created = await json(['volume', 'create', '--size', '1', 'cli-vol']);
      expect(created).toMatchObject({ name: 'cli-vol', size: 1 });
      let shown = await json(['volume', 'show', 'cli-vol']);
      for (let i = 0; shown.status !== 'available' && i < 10; i++) {
        await new Promise((r) => setTimeout(r, 500));
        shown = await json(['volume', 'show', 'cli-vol']);
      }
      expect(shown).toMatchObject({ id: created.id, status: 'available', size: 1 });
      const snapshot = await json(['volume', 'snapshot', 'create', '--volume', 'cli-vol', 'cli-snap']);
      expect(snapshot).toMatchObject({ name: 'cli-snap', volume_id: created.id });
      const backup = await json(['volume', 'backup', 'create', '--name', 'cli-backup', '--force', 'cli-vol']);
      let b = await json(['volume', 'backup', 'show', String(backup.id)]);
      for (let i = 0; b.status !== 'available' && i < 20; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        b = await json(['volume', 'backup', 'show', String(backup.id)]);
      }
      expect(b).toMatchObject({
        name: 'cli-backup',
        status: 'available',
        volume_id: created.id,
        container: 'volumebackups',
      });
      return String(created.id);
    };

    const serverChain = async () => {
      const created = await json([
        'server',
        'create',
        '--flavor',
        'm1.tiny',
        '--image',
        SEED_IMAGE_NAME,
        '--network',
        'public',
        '--wait',
        'cli-server',
      ]);
      expect(created).toMatchObject({ name: 'cli-server', status: 'ACTIVE' });
      const shown = await json(['server', 'show', 'cli-server']);
      expect(shown).toMatchObject({
        id: created.id,
        status: 'ACTIVE',
        flavor: expect.stringContaining('m1.tiny'),
      });
      expect(JSON.stringify(shown.addresses)).toMatch(/public.*172\.24\.4\./);
      const image = await json([
        'server',
        'image',
        'create',
        '--name',
        'cli-server-snap',
        '--wait',
        'cli-server',
      ]);
      expect(image).toMatchObject({ name: 'cli-server-snap' });
      const imageShown = await json(['image', 'show', 'cli-server-snap']);
      expect(imageShown).toMatchObject({ status: 'active' });
      await osc(['image', 'save', '--file', join(dir, 'snap.img'), 'cli-server-snap']);
      // The saved bytes are the image's (Glance's own checksum and what Dragon's client reads).
      const fromClient = await new GlanceClient(demoSession()).downloadImage(String(imageShown.id));
      const h = createHash('sha256');
      for await (const chunk of fromClient!.stream) h.update(chunk as Buffer);
      expect(sha256(join(dir, 'snap.img'))).toBe(h.digest('hex'));
      expect(readFileSync(join(dir, 'snap.img')).length).toBe(imageShown.size);
      return String(created.id);
    };

    const stackChain = async () => {
      await osc(['stack', 'create', '--wait', '-t', join(dir, 'stack.yaml'), 'cli-stack']);
      const shown = await json(['stack', 'show', 'cli-stack']);
      expect(shown.stack_status).toBe('CREATE_COMPLETE');
      const outputs = Object.fromEntries(
        (shown.outputs as Array<{ output_key: string; output_value: unknown }>).map((o) => [
          o.output_key,
          o.output_value,
        ]),
      );
      expect(String(outputs.server_ip)).toMatch(/^10\.30\.0\./);
      expect(String(outputs.floating_ip)).toMatch(/^172\.24\.4\./);
      return outputs as { server_ip: string; floating_ip: string };
    };

    const objectChain = async () => {
      const created = await json<Row[]>(['object', 'create', 'cli', 'hello.txt']);
      expect(created[0]).toMatchObject({ object: 'hello.txt', container: 'cli' });
      expect(column(await json<Row[]>(['object', 'list', 'cli']), 'Name')).toEqual(['hello.txt']);
      await osc(['object', 'save', '--file', join(dir, 'hello.back'), 'cli', 'hello.txt']);
      expect(readFileSync(join(dir, 'hello.back'), 'utf8')).toBe('hello from the real openstack client\n');
      const container = await json(['container', 'show', 'cli']);
      expect(container).toMatchObject({ container: 'cli', object_count: '1' });
    };

    const regionTwoVolume = async () => {
      const created = await json(['volume', 'create', '--size', '1', 'cli-vol-two'], { region: 'RegionTwo' });
      return String(created.id);
    };

    const [volumeId, serverId, outputs, , volumeTwoId] = await Promise.all([
      volumeChain(),
      serverChain(),
      stackChain(),
      objectChain(),
      regionTwoVolume(),
    ]);

    // --- Listings see what the chains made, each region only its own.
    const [servers, volumes, volumesTwo, subnets, ports, routers, fips, stacks] = await Promise.all([
      json<Row[]>(['server', 'list']),
      json<Row[]>(['volume', 'list']),
      json<Row[]>(['volume', 'list'], { region: 'RegionTwo' }),
      json<Row[]>(['subnet', 'list']),
      json<Row[]>(['port', 'list']),
      json<Row[]>(['router', 'list']),
      json<Row[]>(['floating', 'ip', 'list']),
      json<Row[]>(['stack', 'list']),
    ]);
    expect(column(servers, 'Name').sort()).toEqual(['cli-server', 'cli-stack-server']);
    expect(column(servers, 'ID')).toContain(serverId);
    expect(column(volumes, 'ID')).toEqual([volumeId]);
    expect(column(volumesTwo, 'ID')).toEqual([volumeTwoId]);
    expect(column(subnets, 'Name')).toContain('cli-subnet');
    expect(JSON.stringify(ports)).toContain(outputs.server_ip);
    expect(column(routers, 'Name')).toContain('cli-router');
    expect(fips.find((f) => f['Floating IP Address'] === outputs.floating_ip)).toMatchObject({
      'Fixed IP Address': outputs.server_ip,
    });
    expect(stacks.find((s) => s['Stack Name'] === 'cli-stack')).toMatchObject({
      'Stack Status': 'CREATE_COMPLETE',
    });

    // --- Delete the stack: its network, router, port and floating IP go with it.
    await osc(['stack', 'delete', '--yes', '--wait', 'cli-stack']);
    const [stacksAfter, routersAfter] = await Promise.all([
      json<Row[]>(['stack', 'list']),
      json<Row[]>(['router', 'list']),
    ]);
    expect(stacksAfter).toEqual([]);
    expect(column(routersAfter, 'Name')).not.toContain('cli-router');

    console.info(`openstack CLI: ${calls} calls in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 240_000);
});

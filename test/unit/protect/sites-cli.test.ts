/** `dragon site`, `dragon protectable list` and `policy resource add --with-dependencies` against the real API. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../services/cli/main.js';
import { CinderClient } from '../../../services/common/openstack/cinder.js';
import { GlanceClient } from '../../../services/common/openstack/glance.js';
import { NovaClient } from '../../../services/common/openstack/nova.js';
import { KeystoneSession } from '../../../services/common/openstack/session.js';
import { recordService } from '../../../services/common/services-table.js';
import { type ProtectApi, startProtectApi } from '../../support/protect-api.js';

let t: ProtectApi;
let token: string;
let serverId: string;
let volumeId: string;
const fast = { timeoutMs: 10_000, intervalMs: 50 };

async function dragon(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const dir = mkdtempSync(join(tmpdir(), 'dragon-cli-sites-'));
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { OS_TOKEN: token, OS_ENDPOINT: t.api.url, ...env },
    cwd: dir,
    home: dir,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  t = await startProtectApi();
  token = await t.token();
  // An engine that publishes the two actions the resources use.
  await recordService(t.db, {
    host: 'cli-engine',
    binary: 'dragon-engine',
    version: 'test',
    plugins: [
      { name: 'server-snapshot', version: '1', resource_type: 'OS::Nova::Server', options_schema: {} },
      { name: 'volume-snapshot', version: '1', resource_type: 'OS::Cinder::Volume', options_schema: {} },
    ],
  });
  const s = new KeystoneSession({
    authUrl: `${t.cloud.keystone.url}/v3`,
    auth: { type: 'password', username: 'demo', password: 'DEMO_PASS', userDomainName: 'Default' },
    scope: { projectName: 'demo', projectDomainName: 'Default' },
    regionName: 'RegionOne',
    interface: 'public',
  });
  const nova = new NovaClient(s);
  const cinder = new CinderClient(s);
  const image = (await new GlanceClient(s).listImages()).find((i) => i.name?.includes('cirros'))!;
  const created = await nova.createServer({
    name: 'db-1',
    flavorRef: (await nova.listFlavors())[0].id,
    imageRef: image.id,
    networks: 'none',
  });
  serverId = created.id;
  await nova.waitForServer(serverId, 'ACTIVE', fast);
  const vol = await cinder.createVolume({ name: 'db-data', size: 1 });
  volumeId = vol.id;
  await cinder.waitForVolume(vol.id, ['available'], fast);
  await nova.attachVolume(serverId, vol.id);
  await cinder.waitForVolume(vol.id, ['in-use'], fast);
  await s.close();
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('dragon site', () => {
  it('lists the sites of the cloud', async () => {
    const r = await dragon(['site', 'list', '-f', 'json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { Name: string; Kind: string }[];
    expect(rows).toContainEqual(expect.objectContaining({ Name: 'RegionOne', Kind: 'operator' }));
  });

  it('registers, shows and deletes a site of another cloud; a bad secret fails', async () => {
    const store = t.cloud.keystone.store;
    const demo = store.findUser({ name: 'demo', domainId: 'default' })!;
    const cred = store.createApplicationCredential({
      userId: demo.id,
      projectId: t.cloud.demo.projectId,
      name: 'cli',
    });
    const base = [
      'site',
      'create',
      'far-away',
      '--auth-url',
      `${t.cloud.keystone.url}/v3`,
      '--application-credential-id',
      cred.credential.id,
      '--region-name',
      'RegionTwo',
    ];
    const bad = await dragon([...base, '--application-credential-secret', 'wrong']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('refused');
    const ok = await dragon([...base, '-f', 'json'], {
      DRAGON_SITE_APPLICATION_CREDENTIAL_SECRET: cred.secret,
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toContain(cred.secret);
    expect(JSON.parse(ok.stdout)).toMatchObject({ Name: 'far-away', Kind: 'tenant' });
    const shown = await dragon([
      'site',
      'show',
      'far-away',
      '-f',
      'value',
      '-c',
      'Application Credential ID',
    ]);
    expect(shown.stdout.trim()).toBe(cred.credential.id);
    expect((await dragon(['site', 'delete', 'far-away'])).code).toBe(0);
    expect((await dragon(['site', 'show', 'far-away'])).code).toBe(1);
  });
});

describe('dragon protectable list', () => {
  it('lists servers and volumes, with dependencies in --long', async () => {
    const r = await dragon(['protectable', 'list', '--site', 'RegionOne', '--long', '-f', 'json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { ID: string; Type: string; Dependencies: string[] }[];
    const server = rows.find((x) => x.ID === serverId)!;
    expect(server.Type).toBe('OS::Nova::Server');
    expect(server.Dependencies).toContain('OS::Cinder::Volume db-data');
    const volumes = await dragon([
      'protectable',
      'list',
      '--type',
      'OS::Cinder::Volume',
      '-f',
      'value',
      '-c',
      'ID',
    ]);
    expect(volumes.stdout.split('\n')).toContain(volumeId);
  });

  it('adds a server with its attached volumes to a policy', async () => {
    expect((await dragon(['policy', 'create', 'db-policy'])).code).toBe(0);
    const r = await dragon([
      'policy',
      'resource',
      'add',
      'db-policy',
      '--resource-id',
      serverId,
      '--type',
      'OS::Nova::Server',
      '--action',
      'server-snapshot',
      '--with-dependencies',
      '-f',
      'json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const listed = await dragon(['policy', 'resource', 'list', 'db-policy', '-f', 'json']);
    const rows = JSON.parse(listed.stdout) as Record<string, string>[];
    expect(rows).toContainEqual(
      expect.objectContaining({
        'Resource ID': serverId,
        Action: 'server-snapshot',
        'Resource Name': 'db-1',
      }),
    );
    expect(rows).toContainEqual(
      expect.objectContaining({
        'Resource ID': volumeId,
        Action: 'volume-snapshot',
        'Resource Type': 'OS::Cinder::Volume',
      }),
    );
  });
});

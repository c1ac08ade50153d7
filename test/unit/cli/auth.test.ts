import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliWorld, startCliWorld } from '../../support/cli-harness.js';
import { DEMO } from '../../support/fake-keystone.js';

let w: CliWorld;
beforeAll(async () => {
  w = await startCliWorld();
  w.regionOne.addPolicy({ name: 'in-region-one' });
  w.regionTwo.addPolicy({ name: 'in-region-two' });
  w.internal.addPolicy({ name: 'on-internal-endpoint' });
});
afterAll(() => w.close());

const names = (stdout: string) => stdout.trim().split('\n').filter(Boolean).sort();

function cloudsYaml(cloud: string, auth: Record<string, string>, extra = '') {
  const lines = Object.entries(auth).map(([k, v]) => `      ${k}: ${v}`);
  return `clouds:\n  ${cloud}:\n    auth:\n${lines.join('\n')}\n${extra}`;
}

describe('authentication from OS_* variables and flags', () => {
  it('uses a password from OS_* variables and the public endpoint of the catalog', async () => {
    const r = await w.run(['policy', 'list', '-f', 'value', '-c', 'Name']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(names(r.stdout)).toEqual(['in-region-one']);
    const sent = w.keystone.authRequests.at(-1)!;
    expect(sent.auth.identity.password?.user).toMatchObject({
      name: DEMO.username,
      domain: { name: DEMO.domain },
    });
    expect(sent.auth.scope?.project).toMatchObject({ name: DEMO.project, domain: { name: DEMO.domain } });
  });

  it('lets --os-region-name pick the endpoint of another region', async () => {
    const r = await w.run(['--os-region-name', 'RegionTwo', 'policy', 'list', '-f', 'value', '-c', 'Name']);
    expect(r.code).toBe(0);
    expect(names(r.stdout)).toEqual(['in-region-two']);
  });

  it('takes the region from OS_REGION_NAME', async () => {
    const r = await w.run(['policy', 'list', '-f', 'value', '-c', 'Name'], {
      ...w.passwordEnv,
      OS_REGION_NAME: 'RegionTwo',
    });
    expect(names(r.stdout)).toEqual(['in-region-two']);
  });

  it('uses the interface asked for', async () => {
    const r = await w.run(['--os-interface', 'internal', 'policy', 'list', '-f', 'value', '-c', 'Name']);
    expect(names(r.stdout)).toEqual(['on-internal-endpoint']);
  });

  it('reports a region without a Dragon endpoint like keystoneauth', async () => {
    const r = await w.run(['--os-region-name', 'RegionNine', 'policy', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('public endpoint for disaster-recovery service in RegionNine region not found\n');
  });

  it('prefers a flag over the OS_* variable', async () => {
    const r = await w.run(['--os-password', 'wrong', 'policy', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^The request you have made requires authentication\. \(HTTP 401\) \(Request-ID: req-[0-9a-f-]+\)\n$/,
    );
    // The rejected password is never echoed back.
    expect(r.stderr).not.toContain('wrong');
  });

  it('accepts global options after the command too', async () => {
    const r = await w.run(['policy', 'list', '-f', 'value', '-c', 'Name', '--os-region-name', 'RegionTwo']);
    expect(names(r.stdout)).toEqual(['in-region-two']);
  });

  it('says which value is missing when nothing tells it where Keystone is', async () => {
    const r = await w.run(['policy', 'list'], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Missing value auth-url required for auth plugin password\n');
  });

  it('skips Keystone with --os-token and --os-endpoint', async () => {
    const before = w.keystone.authRequests.length;
    const r = await w.run(
      [
        '--os-token',
        'static-admin-token',
        '--os-endpoint',
        w.regionTwo.url,
        'policy',
        'list',
        '-f',
        'value',
        '-c',
        'Name',
      ],
      {},
    );
    expect(r.code).toBe(0);
    expect(names(r.stdout)).toEqual(['in-region-two']);
    expect(w.keystone.authRequests.length).toBe(before);
    expect(w.regionTwo.requests.at(-1)?.headers['x-auth-token']).toBe('static-admin-token');
  });

  it('skips Keystone with OS_TOKEN and OS_URL', async () => {
    const r = await w.run(['policy', 'list', '-f', 'value', '-c', 'Name'], {
      OS_TOKEN: 'static-admin-token',
      OS_URL: `${w.regionOne.url}/v1/`,
    });
    expect(names(r.stdout)).toEqual(['in-region-one']);
  });

  it('exchanges a token for a scoped one when OS_TOKEN comes with OS_AUTH_URL', async () => {
    const r = await w.run(['policy', 'list', '-f', 'value', '-c', 'Name'], {
      OS_AUTH_URL: w.keystone.url,
      OS_TOKEN: 'static-admin-token',
      OS_PROJECT_ID: DEMO.projectId,
    });
    expect(r.code).toBe(0);
    expect(names(r.stdout)).toEqual(['in-region-one']);
    expect(w.keystone.authRequests.at(-1)?.auth.identity.methods).toEqual(['token']);
  });

  it('sends the microversion header when one is asked for', async () => {
    await w.run(['--os-disaster-recovery-api-version', '1.2', 'policy', 'list']);
    expect(w.regionOne.requests.at(-1)?.headers['openstack-api-version']).toBe('disaster-recovery 1.2');
    await w.run(['policy', 'list']);
    expect(w.regionOne.requests.at(-1)?.headers['openstack-api-version']).toBeUndefined();
  });
});

describe('clouds.yaml and secure.yaml', () => {
  const homeClouds = () => join(w.home, '.config', 'openstack', 'clouds.yaml');

  it('reads the named cloud from ~/.config/openstack/clouds.yaml', async () => {
    w.writeFile(
      homeClouds(),
      cloudsYaml(
        'mycloud',
        {
          auth_url: w.keystone.url,
          username: DEMO.username,
          password: DEMO.password,
          project_name: DEMO.project,
          user_domain_name: DEMO.domain,
          project_domain_name: DEMO.domain,
        },
        '    region_name: RegionTwo\n',
      ),
    );
    const r = await w.run(['--os-cloud', 'mycloud', 'policy', 'list', '-f', 'value', '-c', 'Name'], {});
    expect(r.stderr).toBe('');
    expect(names(r.stdout)).toEqual(['in-region-two']);
  });

  it('lets OS_* variables override the clouds.yaml entry', async () => {
    const r = await w.run(['policy', 'list', '-f', 'value', '-c', 'Name'], {
      OS_CLOUD: 'mycloud',
      OS_REGION_NAME: 'RegionOne',
    });
    expect(names(r.stdout)).toEqual(['in-region-one']);
  });

  it('prefers ./clouds.yaml over the one in HOME', async () => {
    w.writeFile(
      join(w.cwd, 'clouds.yaml'),
      cloudsYaml('mycloud', {
        auth_url: w.keystone.url,
        username: DEMO.username,
        password: DEMO.password,
        project_name: DEMO.project,
      }),
    );
    try {
      // The cwd entry has no region, so the first matching endpoint (RegionOne) is used.
      const r = await w.run(['--os-cloud', 'mycloud', 'policy', 'list', '-f', 'value', '-c', 'Name'], {});
      expect(r.stderr).toBe('');
      expect(names(r.stdout)).toEqual(['in-region-one']);
    } finally {
      w.writeFile(join(w.cwd, 'clouds.yaml'), 'clouds: {}\n');
    }
  });

  it('uses only the first clouds.yaml found, like openstacksdk', async () => {
    // ./clouds.yaml now exists without "mycloud": the HOME file is not consulted.
    const r = await w.run(['--os-cloud', 'mycloud', 'policy', 'list'], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Cloud mycloud was not found.\n');
  });

  it('merges the password from secure.yaml into the cloud', async () => {
    w.writeFile(
      join(w.cwd, 'clouds.yaml'),
      cloudsYaml('split', { auth_url: w.keystone.url, username: DEMO.username, project_name: DEMO.project }),
    );
    const noSecret = await w.run(['--os-cloud', 'split', 'policy', 'list'], {});
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toBe('Missing value password required for auth plugin password\n');

    w.writeFile(
      join(w.home, '.config', 'openstack', 'secure.yaml'),
      cloudsYaml('split', { password: DEMO.password }),
    );
    const r = await w.run(['--os-cloud', 'split', 'policy', 'list', '-f', 'value', '-c', 'Name'], {});
    expect(r.stderr).toBe('');
    expect(names(r.stdout)).toEqual(['in-region-one']);
  });

  it('supports application credentials by id and by name', async () => {
    w.writeFile(
      join(w.cwd, 'clouds.yaml'),
      [
        'clouds:',
        '  byid:',
        '    auth_type: v3applicationcredential',
        '    auth:',
        `      auth_url: ${w.keystone.url}`,
        `      application_credential_id: ${DEMO.appCredId}`,
        `      application_credential_secret: ${DEMO.appCredSecret}`,
        '  byname:',
        '    auth_type: v3applicationcredential',
        '    region_name: RegionTwo',
        '    auth:',
        `      auth_url: ${w.keystone.url}`,
        `      application_credential_name: ${DEMO.appCredName}`,
        `      application_credential_secret: ${DEMO.appCredSecret}`,
        `      username: ${DEMO.username}`,
        `      user_domain_name: ${DEMO.domain}`,
        '',
      ].join('\n'),
    );
    const byId = await w.run(['--os-cloud', 'byid', 'policy', 'list', '-f', 'value', '-c', 'Name'], {});
    expect(byId.stderr).toBe('');
    expect(names(byId.stdout)).toEqual(['in-region-one']);
    const sent = w.keystone.authRequests.at(-1)!;
    expect(sent.auth.identity.methods).toEqual(['application_credential']);
    expect(sent.auth.scope).toBeUndefined();

    const byName = await w.run(['--os-cloud', 'byname', 'policy', 'list', '-f', 'value', '-c', 'Name'], {});
    expect(byName.stderr).toBe('');
    expect(names(byName.stdout)).toEqual(['in-region-two']);
  });

  it('supports auth_type token in clouds.yaml', async () => {
    w.writeFile(
      join(w.cwd, 'clouds.yaml'),
      cloudsYaml(
        'tok',
        { auth_url: w.keystone.url, token: 'static-admin-token', project_id: DEMO.projectId },
        '    auth_type: token\n',
      ),
    );
    const r = await w.run(['--os-cloud', 'tok', 'policy', 'list', '-f', 'value', '-c', 'Name'], {});
    expect(r.stderr).toBe('');
    expect(names(r.stdout)).toEqual(['in-region-one']);
  });
});

/**
 * python3-heatclient (through the openstack CLI) against the Heat simulator:
 * the client nobody here wrote must work. Fails (never skips) where the CLI is
 * missing: `npm test` installs Debian's python3-openstackclient and python3-heatclient.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCloud, startCloud } from '../../../services/cloudsim/cloud.js';
import { heatServices } from '../../../services/cloudsim/services-heat.js';
import { requireOpenStackClients } from '../../support/services.js';
import { fakeCinder, fakeNeutron, fakeNova, leftovers } from './heat-fakes.js';

const run = promisify(execFile);
// Debian's CLI (the package `npm test` installs), never a pyenv/pip one.
const osc = '/usr/bin/openstack';

describe('openstack stack commands (python3-heatclient) against the Heat simulator', () => {
  let cloud: RunningCloud;
  let dir: string;
  const cli = async (...args: string[]) => {
    const { stdout } = await run(osc, ['--os-cloud', 'sim', ...args], {
      env: { ...process.env, OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml'), PYTHONWARNINGS: 'ignore' },
      timeout: 60_000,
    });
    return stdout;
  };
  // `--wait` prints the events before the JSON document.
  const lastJson = (out: string) => JSON.parse(out.slice(out.search(/^[{[]/m)));

  beforeAll(async () => {
    requireOpenStackClients();
    cloud = await startCloud({ services: [...heatServices, fakeNeutron, fakeNova, fakeCinder] });
    dir = mkdtempSync(join(tmpdir(), 'heat-osc-'));
    writeFileSync(
      join(dir, 'clouds.yaml'),
      [
        'clouds:',
        '  sim:',
        '    auth:',
        `      auth_url: ${cloud.keystone.url}/v3`,
        '      username: demo',
        '      password: DEMO_PASS',
        '      project_name: demo',
        '      user_domain_name: Default',
        '      project_domain_name: Default',
        '    region_name: RegionOne',
        '    interface: public',
        '    identity_api_version: 3',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'stack.yaml'),
      [
        'heat_template_version: 2018-08-31',
        'parameters:',
        '  size: {type: number, default: 1}',
        'resources:',
        '  net: {type: OS::Neutron::Net, properties: {name: osc-net}}',
        '  subnet: {type: OS::Neutron::Subnet, properties: {network: {get_resource: net}, cidr: 10.9.0.0/24}}',
        '  port: {type: OS::Neutron::Port, properties: {network: {get_resource: net}, fixed_ips: [{subnet: {get_resource: subnet}}]}}',
        '  vol: {type: OS::Cinder::Volume, properties: {size: {get_param: size}}}',
        '  server: {type: OS::Nova::Server, properties: {flavor: m1.tiny, image: cirros, networks: [{port: {get_resource: port}}]}}',
        '  attach: {type: OS::Cinder::VolumeAttachment, properties: {instance_uuid: {get_resource: server}, volume_id: {get_resource: vol}}}',
        'outputs:',
        '  ip: {value: {get_attr: [server, first_address]}}',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('stack create --wait, list, show, resource list, event list, output show, delete --wait', async () => {
    const created = lastJson(
      await cli(
        'stack',
        'create',
        '-t',
        join(dir, 'stack.yaml'),
        '--parameter',
        'size=2',
        '--wait',
        '-f',
        'json',
        'osc',
      ),
    ) as { stack_status: string; id: string };
    expect(created.stack_status).toBe('CREATE_COMPLETE');
    const list = JSON.parse(await cli('stack', 'list', '-f', 'json')) as Array<{
      'Stack Name': string;
      'Stack Status': string;
    }>;
    expect(list).toEqual([
      expect.objectContaining({ 'Stack Name': 'osc', 'Stack Status': 'CREATE_COMPLETE' }),
    ]);
    const shown = JSON.parse(await cli('stack', 'show', '-f', 'json', 'osc')) as {
      id: string;
      outputs: unknown;
    };
    expect(shown.id).toBe(created.id);
    expect(JSON.stringify(shown.outputs)).toContain('10.9.0.10');
    const resources = JSON.parse(await cli('stack', 'resource', 'list', '-f', 'json', 'osc')) as Array<{
      resource_name: string;
      resource_status: string;
    }>;
    expect(resources).toHaveLength(6);
    expect(resources.every((r) => r.resource_status === 'CREATE_COMPLETE')).toBe(true);
    const res = JSON.parse(await cli('stack', 'resource', 'show', '-f', 'json', 'osc', 'vol')) as {
      physical_resource_id: string;
    };
    expect(res.physical_resource_id).toMatch(/^[0-9a-f-]{36}$/);
    const events = await cli('stack', 'event', 'list', 'osc');
    expect(events).toContain('CREATE_COMPLETE');
    const out = JSON.parse(await cli('stack', 'output', 'show', '-f', 'json', 'osc', 'ip')) as {
      output_value: string;
    };
    expect(out.output_value).toBe('10.9.0.10');
    const validated = await cli('orchestration', 'template', 'validate', '-t', join(dir, 'stack.yaml'));
    expect(validated).toContain('size');
    await cli('stack', 'delete', '--yes', '--wait', 'osc');
    expect(JSON.parse(await cli('stack', 'list', '-f', 'json'))).toEqual([]);
    expect(leftovers()).toBe(0);
  }, 120_000);

  it('a failing stack with --enable-rollback ends ROLLBACK_COMPLETE and the CLI reports the failure', async () => {
    writeFileSync(
      join(dir, 'fail.yaml'),
      [
        'heat_template_version: wallaby',
        'resources:',
        '  net: {type: OS::Neutron::Net}',
        '  boom: {type: OS::Heat::TestResource, properties: {fail: true}, depends_on: net}',
        '',
      ].join('\n'),
    );
    const err = await cli(
      'stack',
      'create',
      '-t',
      join(dir, 'fail.yaml'),
      '--enable-rollback',
      '--wait',
      'failing',
    ).catch((e: { stdout: string; stderr: string }) => e);
    expect(typeof err).not.toBe('string');
    const e = err as { stdout: string; stderr: string };
    expect(`${e.stdout}${e.stderr}`).toContain('Test Resource failed boom');
    const shown = JSON.parse(await cli('stack', 'show', '-f', 'json', 'failing')) as { stack_status: string };
    expect(shown.stack_status).toBe('ROLLBACK_COMPLETE');
    expect(leftovers()).toBe(0);
    // A rolled-back stack can be updated into a working one.
    await cli('stack', 'update', '--existing', '--wait', '-t', join(dir, 'stack.yaml'), 'failing');
    const updated = JSON.parse(await cli('stack', 'show', '-f', 'json', 'failing')) as {
      stack_status: string;
    };
    expect(updated.stack_status).toBe('UPDATE_COMPLETE');
    expect(leftovers()).toBe(5); // net, subnet, port, volume, server
    await cli('stack', 'delete', '--yes', '--wait', 'failing');
    expect(leftovers()).toBe(0);
  }, 120_000);
});

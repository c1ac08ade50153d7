import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliWorld, startCliWorld } from '../../support/cli-harness.js';

let w: CliWorld;
beforeAll(async () => {
  w = await startCliWorld();
});
afterAll(() => w.close());
beforeEach(() => {
  w.regionOne.policies.clear();
  w.regionOne.executions.clear();
});

const json = (stdout: string) => JSON.parse(stdout);

describe('dragon policy', () => {
  it('creates a policy and prints it as a Field/Value table', async () => {
    const r = await w.run([
      'policy',
      'create',
      'web',
      '--description',
      'the web tier',
      '--backup-site',
      'site-b',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^\| Field +\| Value +\|$/);
    expect(r.stdout).toMatch(/\| Name +\| web +\|/);
    expect(r.stdout).toMatch(/\| Description +\| the web tier +\|/);
    expect(r.stdout).toMatch(/\| Backup Site +\| site-b +\|/);
    const stored = [...w.regionOne.policies.values()][0];
    expect(stored).toMatchObject({ name: 'web', description: 'the web tier', backup_site: 'site-b' });
  });

  it('lists policies following next links across pages', async () => {
    // The fake returns two policies per page.
    for (const name of ['a', 'b', 'c', 'd', 'e']) w.regionOne.addPolicy({ name });
    const r = await w.run(['policy', 'list', '-f', 'json']);
    expect(json(r.stdout).map((p: { Name: string }) => p.Name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    const onePage = await w.run(['policy', 'list', '-f', 'value', '-c', 'Name', '--limit', '2']);
    expect(onePage.stdout).toBe('a\nb\n');
  });

  it('shows a policy by name and by ID', async () => {
    const p = w.regionOne.addPolicy({ name: 'db', description: 'database' });
    const byName = await w.run(['policy', 'show', 'db', '-f', 'json']);
    expect(json(byName.stdout)).toMatchObject({ ID: p.id, Name: 'db', Description: 'database' });
    const byId = await w.run(['policy', 'show', p.id, '-f', 'value', '-c', 'Name']);
    expect(byId.stdout).toBe('db\n');
  });

  it('explains an unknown policy the way OSC does', async () => {
    const r = await w.run(['policy', 'show', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("No policy with a name or ID of 'nope' exists.\n");
    const byUuid = await w.run(['policy', 'show', '6a9b3a5e-0000-4000-8000-000000000000']);
    expect(byUuid.stderr).toBe(
      "No policy with a name or ID of '6a9b3a5e-0000-4000-8000-000000000000' exists.\n",
    );
  });

  it('refuses an ambiguous name', async () => {
    w.regionOne.addPolicy({ name: 'twin', project_id: 'p1' });
    w.regionOne.addPolicy({ name: 'twin', project_id: 'p2' });
    const r = await w.run(['policy', 'show', 'twin']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("More than one policy exists with the name 'twin'.\n");
  });

  it('prints API errors with the status and request id', async () => {
    w.regionOne.addPolicy({ name: 'dup' });
    const r = await w.run(['policy', 'create', 'dup']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^A policy named dup already exists\. \(HTTP 409\) \(Request-ID: req-[0-9a-f-]{36}\)\n$/,
    );
  });

  it('sets and unsets properties', async () => {
    const p = w.regionOne.addPolicy({ name: 'app' });
    const set = await w.run([
      'policy',
      'set',
      'app',
      '--name',
      'app2',
      '--description',
      'd',
      '--backup-site',
      's',
    ]);
    expect(set).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(w.regionOne.policies.get(p.id)).toMatchObject({
      name: 'app2',
      description: 'd',
      backup_site: 's',
    });

    const unset = await w.run(['policy', 'unset', 'app2', '--description', '--backup-site']);
    expect(unset.code).toBe(0);
    expect(w.regionOne.policies.get(p.id)).toMatchObject({
      name: 'app2',
      description: null,
      backup_site: null,
    });
  });

  it('names the projects that may read the checkpoints (repeatable), replaces and clears them', async () => {
    const created = await w.run([
      'policy',
      'create',
      'shared',
      '--bank-reader',
      'proj-a',
      '--bank-reader',
      'proj-b',
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/\| Bank Readers +\| proj-a, proj-b +\|/);
    const p = [...w.regionOne.policies.values()][0];
    expect(p.bank_readers).toEqual(['proj-a', 'proj-b']);

    expect((await w.run(['policy', 'set', 'shared', '--bank-reader', 'proj-c'])).code).toBe(0);
    expect(w.regionOne.policies.get(p.id)?.bank_readers).toEqual(['proj-c']);
    expect((await w.run(['policy', 'unset', 'shared', '--bank-readers'])).code).toBe(0);
    expect(w.regionOne.policies.get(p.id)?.bank_readers).toBeNull();
  });

  it('deletes several policies and reports the ones it could not', async () => {
    const a = w.regionOne.addPolicy({ name: 'gone-1' });
    const b = w.regionOne.addPolicy({ name: 'gone-2' });
    const busy = w.regionOne.addPolicy({ name: 'busy' });
    w.regionOne.addExecution({ policy_id: busy.id, status: 'running' });
    const r = await w.run(['policy', 'delete', 'gone-1', b.id, 'busy', 'missing']);
    expect(r.code).toBe(1);
    expect(w.regionOne.policies.has(a.id)).toBe(false);
    expect(w.regionOne.policies.has(b.id)).toBe(false);
    expect(w.regionOne.policies.has(busy.id)).toBe(true);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^Failed to delete policy with name or ID 'busy': .* \(HTTP 409\) \(Request-ID: req-/,
    );
    expect(lines[1]).toBe(
      "Failed to delete policy with name or ID 'missing': No policy with a name or ID of 'missing' exists.",
    );
    expect(lines[2]).toBe('2 of 4 policies failed to delete.');
  });
});

describe('dragon policy resource', () => {
  it('adds, lists, changes and removes resources', async () => {
    const p = w.regionOne.addPolicy({ name: 'web' });
    const add = await w.run([
      'policy',
      'resource',
      'add',
      'web',
      '--resource-id',
      'srv-1',
      '--type',
      'OS::Nova::Server',
      '--action',
      'server-image-copy',
      '--name',
      'web-1',
      '--options-json',
      '{"copy_data": "yes", "retries": 3}',
      '--option',
      'copy_data=no',
      '--not-required',
      '-f',
      'json',
    ]);
    expect(add.stderr).toBe('');
    expect(json(add.stdout)).toMatchObject({
      'Resource ID': 'srv-1',
      'Resource Type': 'OS::Nova::Server',
      'Resource Name': 'web-1',
      Action: 'server-image-copy',
      Options: { copy_data: 'no', retries: 3 },
      Required: false,
    });
    await w.run([
      'policy',
      'resource',
      'add',
      p.id,
      '--resource-id',
      'vol-1',
      '--type',
      'OS::Cinder::Volume',
      '--action',
      'volume-snapshot',
    ]);

    const list = await w.run(['policy', 'resource', 'list', 'web', '-f', 'csv']);
    expect(list.stdout).toBe(
      [
        '"Resource ID","Resource Type","Resource Name","Action","Required"',
        '"srv-1","OS::Nova::Server","web-1","server-image-copy",False',
        '"vol-1","OS::Cinder::Volume","","volume-snapshot",True',
        '',
      ].join('\n'),
    );

    const set = await w.run([
      'policy',
      'resource',
      'set',
      'web',
      'srv-1',
      '--option',
      'extra=1',
      '--required',
    ]);
    expect(set.code).toBe(0);
    const show = await w.run(['policy', 'resource', 'show', 'web', 'srv-1', '-f', 'json']);
    expect(json(show.stdout)).toMatchObject({
      Options: { copy_data: 'no', retries: 3, extra: '1' },
      Required: true,
    });

    const remove = await w.run(['policy', 'resource', 'remove', 'web', 'srv-1']);
    expect(remove.code).toBe(0);
    const after = await w.run(['policy', 'resource', 'list', 'web', '-f', 'value', '-c', 'Resource ID']);
    expect(after.stdout).toBe('vol-1\n');
  });

  it('shows the API error when an action does not fit the resource type', async () => {
    w.regionOne.addPolicy({ name: 'web' });
    const r = await w.run([
      'policy',
      'resource',
      'add',
      'web',
      '--resource-id',
      'x',
      '--type',
      'OS::Nova::Server',
      '--action',
      'volume-snapshot',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Action volume-snapshot does not protect OS::Nova::Server\. \(HTTP 400\)/);
  });

  it('rejects malformed options before calling the API', async () => {
    w.regionOne.addPolicy({ name: 'web' });
    const base = ['policy', 'resource', 'add', 'web', '--resource-id', 'x', '--type', 'T', '--action', 'a'];
    const noEq = await w.run([...base, '--option', 'novalue']);
    expect(noEq).toMatchObject({ code: 1, stderr: "--option expects key=value, got 'novalue'\n" });
    const badJson = await w.run([...base, '--options-json', '[1]']);
    expect(badJson).toMatchObject({ code: 1, stderr: '--options-json must be a JSON object\n' });
  });

  it('requires the resource id, type and action', async () => {
    w.regionOne.addPolicy({ name: 'web' });
    const r = await w.run([
      'policy',
      'resource',
      'add',
      'web',
      '--type',
      'OS::Nova::Server',
      '--action',
      'a',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("required option '--resource-id <id>' not specified");
  });
});

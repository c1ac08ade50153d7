import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type CliWorld, startCliWorld } from '../../support/cli-harness.js';

let w: CliWorld;
let alpha: Record<string, unknown>;
let beta: Record<string, unknown>;
beforeAll(async () => {
  w = await startCliWorld();
  alpha = w.regionOne.addPolicy({ name: 'alpha', description: 'first one', backup_site: 'site-b' });
  beta = w.regionOne.addPolicy({ name: 'beta', description: null });
});
afterAll(() => w.close());

describe('list output formats', () => {
  it('table: ASCII grid with OSC column names and no rules between rows', async () => {
    const r = await w.run(['policy', 'list']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^\+-+\+-+\+-+\+-+\+-+\+$/);
    expect(lines[1].split('|').map((s) => s.trim())).toEqual([
      '',
      'ID',
      'Name',
      'Description',
      'Backup Site',
      'Status',
      '',
    ]);
    expect(lines[2]).toBe(lines[0]);
    expect(lines[3].split('|').map((s) => s.trim())).toEqual([
      '',
      alpha.id,
      'alpha',
      'first one',
      'site-b',
      'active',
      '',
    ]);
    expect(lines[4]).toContain('| None ');
    expect(lines[5]).toBe(lines[0]);
  });

  it('--long adds columns', async () => {
    const r = await w.run(['policy', 'list', '--long', '-f', 'json']);
    expect(Object.keys(JSON.parse(r.stdout)[0])).toEqual([
      'ID',
      'Name',
      'Description',
      'Backup Site',
      'Status',
      'Resource Count',
      'Project ID',
      'Created At',
      'Updated At',
    ]);
  });

  it('json: a list of objects keyed by column name, nulls kept', async () => {
    const r = await w.run(['policy', 'list', '-f', 'json']);
    expect(JSON.parse(r.stdout)).toEqual([
      { ID: alpha.id, Name: 'alpha', Description: 'first one', 'Backup Site': 'site-b', Status: 'active' },
      { ID: beta.id, Name: 'beta', Description: null, 'Backup Site': null, Status: 'active' },
    ]);
  });

  it('yaml: the same objects as YAML', async () => {
    const r = await w.run(['policy', 'list', '-f', 'yaml', '-c', 'Name', '-c', 'Backup Site']);
    expect(parse(r.stdout)).toEqual([
      { Name: 'alpha', 'Backup Site': 'site-b' },
      { Name: 'beta', 'Backup Site': null },
    ]);
  });

  it('value: space separated, one row per line, in the -c order', async () => {
    const r = await w.run(['policy', 'list', '-f', 'value', '-c', 'Name', '-c', 'ID']);
    expect(r.stdout).toBe(`alpha ${alpha.id}\nbeta ${beta.id}\n`);
  });

  it('csv: quoted header and quoted text values', async () => {
    const r = await w.run(['policy', 'list', '-f', 'csv', '-c', 'Name', '-c', 'Description']);
    expect(r.stdout).toBe('"Name","Description"\n"alpha","first one"\n"beta",""\n');
  });

  it('an empty list prints nothing in table format and [] in json', async () => {
    const table = await w.run(['policy', 'list', '--name', 'none-such']);
    expect(table).toEqual({ code: 0, stdout: '', stderr: '' });
    const asJson = await w.run(['policy', 'list', '--name', 'none-such', '-f', 'json']);
    expect(JSON.parse(asJson.stdout)).toEqual([]);
  });

  it('-c ignores unknown names but fails when none is known', async () => {
    const some = await w.run(['policy', 'list', '-f', 'value', '-c', 'Name', '-c', 'Bogus']);
    expect(some.stdout).toBe('alpha\nbeta\n');
    const none = await w.run(['policy', 'list', '-c', 'Bogus']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      "No recognized column names in ['Bogus']. Recognized columns are ('ID', 'Name', 'Description', 'Backup Site', 'Status').\n",
    );
  });

  it('--sort-column sorts on the client, descending when asked', async () => {
    const desc = await w.run([
      'policy',
      'list',
      '-f',
      'value',
      '-c',
      'Name',
      '--sort-column',
      'Name',
      '--sort-descending',
    ]);
    expect(desc.stdout).toBe('beta\nalpha\n');
    // None sorts before any value.
    const byDescription = await w.run([
      'policy',
      'list',
      '-f',
      'value',
      '-c',
      'Name',
      '--sort-column',
      'Description',
    ]);
    expect(byDescription.stdout).toBe('beta\nalpha\n');
  });

  it('rejects an unknown format', async () => {
    const r = await w.run(['policy', 'list', '-f', 'xml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("argument 'xml' is invalid");
  });
});

describe('show output formats', () => {
  it('value prints one value per line', async () => {
    const r = await w.run(['policy', 'show', 'alpha', '-f', 'value', '-c', 'Name', '-c', 'Backup Site']);
    expect(r.stdout).toBe('alpha\nsite-b\n');
  });

  it('yaml and json give one object', async () => {
    const y = await w.run(['policy', 'show', 'alpha', '-f', 'yaml']);
    const j = await w.run(['policy', 'show', 'alpha', '-f', 'json']);
    expect(parse(y.stdout)).toEqual(JSON.parse(j.stdout));
    expect(JSON.parse(j.stdout)).toMatchObject({
      ID: alpha.id,
      'Resource Count': 0,
      'Project ID': 'project-demo',
    });
  });

  it('csv gives Field,Value rows', async () => {
    const r = await w.run(['policy', 'show', 'alpha', '-f', 'csv', '-c', 'Name', '-c', 'Resource Count']);
    expect(r.stdout).toBe('"Field","Value"\n"Name","alpha"\n"Resource Count",0\n');
  });

  it('table with -c shows only those fields', async () => {
    const r = await w.run(['policy', 'show', 'alpha', '-c', 'Name']);
    expect(r.stdout).toBe(
      [
        '+-------+-------+',
        '| Field | Value |',
        '+-------+-------+',
        '| Name  | alpha |',
        '+-------+-------+',
        '',
      ].join('\n'),
    );
  });
});

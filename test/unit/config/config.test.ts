import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allGroups,
  apiOpts,
  ConfigError,
  databaseOpts,
  defaultOpts,
  engineOpts,
  loadDragonConfig,
  parseConfigArgs,
  pluginOpts,
  renderSample,
} from '../../../services/common/config/index.js';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'dragon-conf-'));
}
function file(d: string, name: string, text: string): string {
  const p = join(d, name);
  writeFileSync(p, text);
  return p;
}

describe('configuration', () => {
  it('uses the declared defaults when nothing is set', () => {
    const conf = loadDragonConfig({ defaultFile: null, env: {} });
    expect(conf.get(apiOpts)).toMatchObject({ bind_host: '127.0.0.1', bind_port: 8007 });
    expect(conf.get(defaultOpts).transport_url).toBe('');
    expect(conf.get(databaseOpts).connection).toBe('');
  });

  it('lets later --config-file win, then --config-dir files, then DRAGON_ environment variables', () => {
    const d = dir();
    const a = file(d, 'a.conf', '[api]\nbind_port = 9001\nworkers = 3\n[engine]\nmax_parallel_steps = 2\n');
    const b = file(d, 'b.conf', '[api]\nbind_port = 9002\n');
    const confDir = join(d, 'dragon.conf.d');
    mkdirSync(confDir);
    file(confDir, '10-engine.conf', '[engine]\nmax_parallel_steps = 5\n');
    file(confDir, 'ignored.txt', '[engine]\nmax_parallel_steps = 99\n');
    const { sources, rest } = parseConfigArgs([
      '--config-file',
      a,
      `--config-file=${b}`,
      '--config-dir',
      confDir,
      'extra',
    ]);
    expect(rest).toEqual(['extra']);
    const conf = loadDragonConfig({
      sources,
      env: { DRAGON_API__WORKERS: '7', DRAGON_PLUGINS__DIRECTORIES: 'x, y' },
    });
    expect(conf.get(apiOpts).bind_port).toBe(9002);
    expect(conf.get(apiOpts).workers).toBe(7);
    expect(conf.get(engineOpts).max_parallel_steps).toBe(5);
    expect(conf.get(pluginOpts).directories).toEqual(['x', 'y']);
  });

  it('reads /etc/dragon/dragon.conf-like default file only when no --config-file is given', () => {
    const d = dir();
    const def = file(d, 'dragon.conf', '[api]\nbind_port = 9100\n');
    expect(loadDragonConfig({ defaultFile: def, env: {} }).get(apiOpts).bind_port).toBe(9100);
    const other = file(d, 'other.conf', '[api]\nbind_host = 0.0.0.0\n');
    const conf = loadDragonConfig({
      defaultFile: def,
      sources: { configFiles: [other], configDirs: [] },
      env: {},
    });
    expect(conf.get(apiOpts).bind_port).toBe(8007);
  });

  it('names file, section and option for a bad value', () => {
    const d = dir();
    const f = file(d, 'bad.conf', '[api]\nbind_port = eighty\n');
    expect(() => loadDragonConfig({ sources: { configFiles: [f], configDirs: [] }, env: {} })).toThrow(
      new ConfigError(`${f} [api] bind_port: invalid value "eighty": expected an integer`),
    );
    const g = file(d, 'range.conf', '[api]\nbind_port = 70000\n');
    expect(() => loadDragonConfig({ sources: { configFiles: [g], configDirs: [] }, env: {} })).toThrow(
      /must be <= 65535/,
    );
    const h = file(d, 'enum.conf', '[DEFAULT]\nlog_format = xml\n');
    expect(() => loadDragonConfig({ sources: { configFiles: [h], configDirs: [] }, env: {} })).toThrow(
      /log_format: invalid value "xml": expected one of json, text/,
    );
  });

  it('refuses unknown options and sections, and bad environment values, naming where they came from', () => {
    const d = dir();
    const f = file(d, 'unknown.conf', '[api]\nbind_prot = 1\n');
    expect(() => loadDragonConfig({ sources: { configFiles: [f], configDirs: [] }, env: {} })).toThrow(
      /unknown\.conf \[api\] bind_prot: unknown option "bind_prot" in section \[api\]/,
    );
    const g = file(d, 'section.conf', '[nosuch]\nx = 1\n');
    expect(() => loadDragonConfig({ sources: { configFiles: [g], configDirs: [] }, env: {} })).toThrow(
      /unknown section \[nosuch\]/,
    );
    expect(() =>
      loadDragonConfig({ defaultFile: null, env: { DRAGON_ENGINE__TAKEOVER_AFTER: 'soon' } }),
    ).toThrow(/environment DRAGON_ENGINE__TAKEOVER_AFTER: invalid value "soon"/);
    expect(() =>
      loadDragonConfig({ sources: { configFiles: [join(d, 'missing.conf')], configDirs: [] }, env: {} }),
    ).toThrow(/cannot read config file/);
  });

  it('never shows secret values in what it logs', () => {
    const conf = loadDragonConfig({
      defaultFile: null,
      env: {
        DRAGON_DEFAULT__TRANSPORT_URL: 'rabbit://dragon:s3cret@127.0.0.1:5672/',
        DRAGON_DATABASE__CONNECTION: 'postgresql://dragon:pw@127.0.0.1/dragon',
        DRAGON_API__WORKERS: '2',
      },
    });
    const shown = JSON.stringify(conf.redacted());
    expect(shown).not.toContain('s3cret');
    expect(shown).not.toContain(':pw@');
    expect(conf.redacted().api.workers).toBe(2);
  });

  it('keeps etc/dragon/dragon.conf.sample in step with the declared options', () => {
    const committed = readFileSync(
      resolve(import.meta.dirname, '../../../etc/dragon/dragon.conf.sample'),
      'utf8',
    );
    expect(
      committed,
      'etc/dragon/dragon.conf.sample is stale: run "dragon-manage config sample -o etc/dragon/dragon.conf.sample"',
    ).toBe(renderSample(allGroups));
  });

  it('documents every option in the sample with its default, commented out', () => {
    const sample = renderSample(allGroups);
    for (const g of allGroups) {
      expect(sample).toContain(g.templated ? `[${g.name}:NAME]` : `[${g.name}]`);
      for (const name of Object.keys(g.opts)) expect(sample).toMatch(new RegExp(`^#${name} =`, 'm'));
    }
    expect(sample).toContain('#bind_port = 8007');
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configureLogging } from '../../../services/common/log.js';
import { loadPlugins, validateManifest } from '../../../services/engine/plugins/loader.js';
import { TEST_PLUGIN_DIR } from '../../support/engine-fixtures.js';

function captureLog() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = configureLogging({ destination, level: 'info' });
  return { log, lines };
}

describe('plugin loader', () => {
  it('loads good plugins and skips each broken one with a clear log line, without failing', async () => {
    const { log, lines } = captureLog();
    const { plugins, skipped } = await loadPlugins(
      [TEST_PLUGIN_DIR, join(mkdtempSync(join(tmpdir(), 'x-')), 'missing')],
      log,
    );
    expect([...plugins.keys()]).toEqual(['test-sleeper']);
    expect(plugins.get('test-sleeper')?.manifest.resource_type).toBe('Dragon::Test::Sleeper');
    const reasons = Object.fromEntries(skipped.map((s) => [s.dir.split('/').at(-1), s.reason]));
    expect(reasons['broken-manifest']).toMatch(/manifest name "Bad Name!"/);
    expect(reasons['broken-import']).toMatch(/failed to import: this plugin is broken on purpose/);
    expect(reasons['no-hooks']).toMatch(/implements none of the hooks/);
    const text = lines.join('');
    expect(text).toMatch(/skipped broken action plugin in .*broken-import/);
    expect(text).toMatch(/plugin directory does not exist/);
  });

  it('rejects manifests with an invalid options schema or a non-Heat resource type', () => {
    const base = { name: 'x', resource_type: 'OS::Nova::Server', version: '1', entry: 'index.js' };
    expect(() => validateManifest({ ...base, options_schema: { type: 'nonsense' } })).toThrow(
      /not a valid JSON schema/,
    );
    expect(() => validateManifest({ ...base, resource_type: 'server' })).toThrow(/not a Heat type name/);
    expect(() => validateManifest({ ...base, version: '' })).toThrow(/"version"/);
    expect(validateManifest(base).options_schema).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: {},
    });
  });
});

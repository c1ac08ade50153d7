import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import imageCopy from '../../../plugins/image-copy/index.js';
import serverSnapshot from '../../../plugins/server-snapshot/index.js';
import volumeReplication from '../../../plugins/volume-replication/index.js';
import volumeSnapshot from '../../../plugins/volume-snapshot/index.js';
import type { ActionPlugin } from '../../../services/engine/plugin-api.js';
import { validateManifest } from '../../../services/engine/plugins/loader.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', 'plugins');
const MODULES: Record<string, ActionPlugin> = {
  'image-copy': imageCopy,
  'server-snapshot': serverSnapshot,
  'volume-replication': volumeReplication,
  'volume-snapshot': volumeSnapshot,
};
const SHIPPED = Object.keys(MODULES);
const manifest = (name: string) =>
  validateManifest(JSON.parse(readFileSync(join(ROOT, name, 'manifest.json'), 'utf8')));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('shipped plugins', () => {
  it('are the four plugin folders with valid manifests naming the compiled entry', () => {
    const folders = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'manifest.json')));
    expect(folders.sort()).toEqual(SHIPPED);
    for (const name of SHIPPED) {
      const m = manifest(name);
      expect(m.name).toBe(name);
      expect(m.entry).toBe('index.js');
      expect(existsSync(join(ROOT, name, 'index.ts'))).toBe(true);
      expect(typeof MODULES[name].protect).toBe('function');
      expect(typeof MODULES[name].recover).toBe('function');
    }
    expect(manifest('image-copy').resource_type).toBe('OS::Nova::Server');
    expect(manifest('server-snapshot').resource_type).toBe('OS::Nova::Server');
    expect(manifest('volume-snapshot').resource_type).toBe('OS::Cinder::Volume');
    expect(manifest('volume-replication').resource_type).toBe('OS::Cinder::Volume');
  });

  it('validate their options as a policy would', () => {
    const ajv = new Ajv({ useDefaults: true });
    const volume = ajv.compile(manifest('volume-snapshot').options_schema);
    const opts: Record<string, unknown> = {};
    expect(volume(opts)).toBe(true);
    expect(opts.method).toBe('backup');
    expect(volume({ method: 'image' })).toBe(true);
    expect(volume({ method: 'rsync' })).toBe(false);
    expect(ajv.compile(manifest('image-copy').options_schema)({ anything: 1 })).toBe(false);
    expect(ajv.compile(manifest('server-snapshot').options_schema)({ timeout_s: 0 })).toBe(false);
  });

  it('import nothing from Dragon at run time but type-only imports of the plugin API', () => {
    let apiImports = 0;
    for (const file of sources(ROOT)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^import\s+(type\s+)?[\s\S]*?from\s+'([^']+)';/gm)) {
        const [, typeOnly, spec] = m;
        if (spec.startsWith('node:') || spec.startsWith('./') || spec.startsWith('../_common/')) continue;
        expect(`${file}: ${spec}`).toMatch(/services\/engine\/plugin-api\.js$/);
        expect(typeOnly, `${file} imports the plugin API at run time`).toBeTruthy();
        apiImports++;
      }
    }
    expect(apiImports).toBeGreaterThanOrEqual(SHIPPED.length);
  });
});

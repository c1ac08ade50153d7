import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResourceFacts, requirementProblem } from '../../../services/api/resource-requirements.js';
import { validateManifest } from '../../../services/engine/plugins/loader.js';

const shipped = (name: string) =>
  validateManifest(
    JSON.parse(readFileSync(join(import.meta.dirname, '../../../plugins', name, 'manifest.json'), 'utf8')),
  );

describe("an action's requires", () => {
  const replication = shipped('volume-replication');
  const typed = (extra_specs: Record<string, string>) => ({
    volume: { id: 'v1' },
    volume_type: { name: 't', extra_specs },
  });

  it('volume-replication accepts only a volume type Cinder marks as replicated', () => {
    expect(requirementProblem(replication, typed({ replication_enabled: '<is> True' }))).toBeNull();
    expect(requirementProblem(replication, typed({ replication_enabled: '<is> true' }))).toBeNull();
    const refused: Array<Record<string, string>> = [
      {},
      { replication_enabled: '<is> False' },
      { volume_backend_name: 'lvm' },
    ];
    for (const specs of refused)
      expect(requirementProblem(replication, typed(specs))).toMatch(/volume type must be replicated/);
  });

  it('is absent from the other shipped actions, which accept any resource of their type', () => {
    for (const name of ['image-copy', 'server-snapshot', 'volume-snapshot']) {
      expect(shipped(name).requires).toBeUndefined();
      expect(requirementProblem(shipped(name), {})).toBeNull();
    }
  });

  it('must be a valid JSON schema with a message, or the plugin is not loaded', () => {
    const base = { name: 'x', resource_type: 'OS::Cinder::Volume', version: '1', entry: 'index.js' };
    expect(() => validateManifest({ ...base, requires: { schema: {} } })).toThrow(/requires.message/);
    expect(() => validateManifest({ ...base, requires: { schema: { type: 12 }, message: 'm' } })).toThrow(
      /requires.schema is not a valid JSON schema/,
    );
    expect(validateManifest({ ...base, requires: { schema: {}, message: 'm' } }).requires).toEqual({
      schema: {},
      message: 'm',
    });
  });

  it('reads a volume with its type, and a server, as the facts', async () => {
    const clients = {
      cinder: {
        getVolume: async (id: string) => ({ id, volume_type: 'fast' }) as never,
        getVolumeType: async (name: string) =>
          ({ name, extra_specs: { replication_enabled: '<is> True' } }) as never,
      },
      nova: { getServer: async (id: string) => ({ id, status: 'ACTIVE' }) as never },
    };
    expect(await readResourceFacts(clients, 'OS::Cinder::Volume', 'v1')).toEqual({
      volume: { id: 'v1', volume_type: 'fast' },
      volume_type: { name: 'fast', extra_specs: { replication_enabled: '<is> True' } },
    });
    expect(await readResourceFacts(clients, 'OS::Nova::Server', 's1')).toEqual({
      server: { id: 's1', status: 'ACTIVE' },
    });
    expect(await readResourceFacts(clients, 'OS::Heat::Stack', 'x')).toBeUndefined();
  });
});

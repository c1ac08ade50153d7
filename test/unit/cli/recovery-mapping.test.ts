/** `dragon recovery create --mapping FILE`: YAML or JSON, the mapping itself or under `mapping:`. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMapping } from '../../../services/cli/commands/recovery.js';

const dir = mkdtempSync(join(tmpdir(), 'mapping-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('recovery mapping files', () => {
  it('reads YAML', () => {
    const p = file('m.yaml', 'flavors:\n  m1.small: m2.small\nexternal_network: public\n');
    expect(readMapping(p)).toEqual({ flavors: { 'm1.small': 'm2.small' }, external_network: 'public' });
  });
  it('reads JSON, and a document with the mapping under `mapping`', () => {
    const p = file('m.json', JSON.stringify({ mapping: { networks: { 'shop-net': 'dr-net' } } }));
    expect(readMapping(p)).toEqual({ networks: { 'shop-net': 'dr-net' } });
  });
  it('says what is wrong with a bad file', () => {
    expect(() => readMapping(join(dir, 'missing.yaml'))).toThrow(/Cannot read the mapping file/);
    expect(() => readMapping(file('bad.yaml', 'flavors: [unclosed'))).toThrow(/not valid YAML or JSON/);
    expect(() => readMapping(file('list.yaml', '- a\n- b\n'))).toThrow(/must hold a mapping/);
  });
});

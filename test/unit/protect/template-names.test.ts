import { describe, expect, it } from 'vitest';
import { allocateNames, nameOf, sanitise } from '../../../services/engine/protect/template/names.js';

describe('template resource names', () => {
  it('are readable HOT names built from the OpenStack name and a short id', () => {
    const names = allocateNames([
      { kind: 'server', name: 'Web Shop #1', id: 'AB12CD34-0000-4000-8000-000000000000' },
    ]);
    expect(nameOf(names, 'server', 'AB12CD34-0000-4000-8000-000000000000')).toBe('server_web_shop_1_ab12cd');
    expect(sanitise('  --ÄÖ--  ')).toBe('');
    expect(sanitise('x'.repeat(80))).toHaveLength(24);
  });

  it('keep two resources of the same name apart, whatever order they come in', () => {
    const a = { kind: 'volume', name: 'data', id: 'abcdef11-1111' };
    const b = { kind: 'volume', name: 'data', id: 'abcdef22-2222' };
    const one = allocateNames([a, b]);
    const two = allocateNames([b, a]);
    expect(nameOf(one, 'volume', a.id)).not.toBe(nameOf(one, 'volume', b.id));
    expect([...one.entries()].sort()).toEqual([...two.entries()].sort());
    // Only the clash made the suffix longer than 6.
    expect(nameOf(one, 'volume', a.id)).toMatch(/^volume_data_abcdef1/);
  });

  it('names a resource without a name by its kind and id', () => {
    const names = allocateNames([{ kind: 'port', name: '', id: '0123456789' }]);
    expect(nameOf(names, 'port', '0123456789')).toBe('port_012345');
  });
});

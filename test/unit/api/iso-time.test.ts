import { describe, expect, it } from 'vitest';
import { isoTime } from '../../../services/api/views.js';

describe('isoTime', () => {
  it('prints ISO 8601 UTC to the second, as OpenStack APIs do', () => {
    expect(isoTime(new Date('2026-11-26T10:15:00.999Z'))).toBe('2026-11-26T10:15:00Z');
    expect(isoTime(new Date('2026-01-02T03:04:05.000Z'))).toBe('2026-01-02T03:04:05Z');
    expect(isoTime('2026-11-26T23:59:59.5+01:00')).toBe('2026-11-26T22:59:59Z');
  });

  it('agrees with toISOString without milliseconds across the years', () => {
    for (let t = -8.6e15; t <= 8.6e15; t += 3.3e13 + 7919) {
      const d = new Date(t);
      expect(isoTime(d)).toBe(d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    }
  });

  it('gives null for no time or no valid time', () => {
    expect(isoTime(null)).toBeNull();
    expect(isoTime(undefined)).toBeNull();
    expect(isoTime('not a time')).toBeNull();
  });
});

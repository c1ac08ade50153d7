import type { OptDef } from './types.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Converts a raw INI/env string into the option's type, or throws a ConfigError naming where it came from. */
export function parseValue(def: OptDef, raw: string, where: string): unknown {
  const value = raw.trim();
  const bad = (why: string) => new ConfigError(`${where}: invalid value ${JSON.stringify(value)}: ${why}`);
  switch (def.type) {
    case 'string':
      return value;
    case 'int': {
      if (!/^-?\d+$/.test(value)) throw bad('expected an integer');
      const n = Number.parseInt(value, 10);
      checkRange(def, n, bad);
      return n;
    }
    case 'float': {
      const n = Number(value);
      if (value === '' || Number.isNaN(n)) throw bad('expected a number');
      checkRange(def, n, bad);
      return n;
    }
    case 'bool': {
      const v = value.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw bad('expected true or false');
    }
    case 'list':
      return value === ''
        ? []
        : value
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
    case 'enum':
      if (!def.choices?.includes(value)) throw bad(`expected one of ${def.choices?.join(', ')}`);
      return value;
  }
}

function checkRange(def: OptDef, n: number, bad: (why: string) => Error): void {
  if (def.min !== undefined && n < def.min) throw bad(`must be >= ${def.min}`);
  if (def.max !== undefined && n > def.max) throw bad(`must be <= ${def.max}`);
}

export function formatDefault(def: OptDef): string {
  if (def.sampleDefault !== undefined) return def.sampleDefault;
  const v = def.default;
  if (Array.isArray(v)) return v.join(',');
  if (v === undefined || v === null) return '<None>';
  return String(v);
}

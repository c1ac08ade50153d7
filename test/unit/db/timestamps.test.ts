import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseTimestamptz, timestamptzMillis } from '../../../services/common/db/timestamps.js';

// What pg would have made of the text without Dragon's reader.
const general = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (s: string) => unknown;

const SAMPLES = [
  '2026-11-26 09:05:40+00',
  '2026-11-26 09:05:40.1+00',
  '2026-11-26 09:05:40.12+00',
  '2026-11-26 09:05:40.123+00',
  '2026-11-26 09:05:40.123456+00',
  '2026-11-26 09:05:40.999999+00',
  '2026-11-26 23:59:59.5-05',
  '2026-11-26 00:00:00+05:30',
  '1970-01-01 00:00:00+00',
  '2000-02-29 12:00:00.000001+14',
  '1883-11-18 12:00:00+00:53:28',
  '1901-12-13 20:45:52-00:00:01',
  '9999-12-31 23:59:59.999999+00',
];

describe('Dragon pool timestamptz reader', () => {
  it('makes the same Date as pg for every form PostgreSQL sends', () => {
    for (const text of SAMPLES) {
      expect(timestamptzMillis(text), text).toBeDefined();
      expect((parseTimestamptz(text) as Date).getTime(), text).toBe((general(text) as Date).getTime());
    }
  });

  it('leaves unusual forms to pg, with the same result', () => {
    for (const text of ['infinity', '-infinity', '0099-01-01 00:00:00+00', '2026-11-26 09:05:40+00 BC']) {
      expect(timestamptzMillis(text), text).toBeUndefined();
      expect(parseTimestamptz(text)).toEqual(general(text));
    }
  });

  it('reads a timestamp PostgreSQL writes for a JavaScript Date back to that Date', () => {
    const d = new Date('2026-11-26T10:15:00.123Z');
    expect((parseTimestamptz('2026-11-26 10:15:00.123+00') as Date).toISOString()).toBe(d.toISOString());
  });
});

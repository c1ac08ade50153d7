/**
 * Policy schedules and retention: validation and "when is the next run".
 * A schedule is a cron expression with a time zone, or an interval.
 */
import { CronExpressionParser } from 'cron-parser';
import { DragonError } from './errors.js';

export type Schedule = { cron: string; timezone?: string } | { interval_seconds: number };

export interface Retention {
  /** Keep at most this many available checkpoints. */
  keep_last?: number;
  /** Delete available checkpoints older than this many days. */
  max_age_days?: number;
}

export const MIN_INTERVAL_SECONDS = 60;

export function validateSchedule(s: Schedule): void {
  if ('cron' in s) {
    try {
      CronExpressionParser.parse(s.cron, { tz: s.timezone ?? 'UTC' }).next();
    } catch (err) {
      throw new DragonError(400, `Invalid schedule: ${(err as Error).message}`);
    }
    if (s.timezone && !Intl.supportedValuesOf('timeZone').includes(s.timezone) && s.timezone !== 'UTC') {
      throw new DragonError(400, `Invalid schedule: unknown time zone ${s.timezone}`);
    }
  } else if (!(s.interval_seconds >= MIN_INTERVAL_SECONDS)) {
    throw new DragonError(400, `Invalid schedule: interval_seconds must be at least ${MIN_INTERVAL_SECONDS}`);
  }
}

/** The first run strictly after `after`. A run missed while no engine was up happens once, at the next tick. */
export function nextRun(s: Schedule, after: Date): Date {
  if ('cron' in s) {
    return CronExpressionParser.parse(s.cron, { currentDate: after, tz: s.timezone ?? 'UTC' })
      .next()
      .toDate();
  }
  return new Date(after.getTime() + s.interval_seconds * 1000);
}

/**
 * Which available checkpoints retention removes, given them newest first.
 * The newest available one is never removed, and nothing is removed unless
 * a newer available checkpoint exists (so a failed run never empties the bank).
 */
export function expiredCheckpoints<T extends { id: string; created_at: Date }>(
  availableNewestFirst: readonly T[],
  retention: Retention,
  now: Date,
): T[] {
  const out: T[] = [];
  availableNewestFirst.forEach((c, i) => {
    if (i === 0) return;
    const tooMany = retention.keep_last !== undefined && i >= retention.keep_last;
    const tooOld =
      retention.max_age_days !== undefined &&
      now.getTime() - c.created_at.getTime() > retention.max_age_days * 86_400_000;
    if (tooMany || tooOld) out.push(c);
  });
  return out;
}

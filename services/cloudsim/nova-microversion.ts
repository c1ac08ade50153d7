/**
 * Nova's API microversions: the version asked for in `OpenStack-API-Version:
 * compute 2.x` or the legacy `X-OpenStack-Nova-API-Version: 2.x` (2.1 when
 * absent, `latest` = the newest), echoed in both headers on every answer.
 */
import type { NextFunction, Request, Response } from 'express';

export const MIN_MICROVERSION = 1;
export const MAX_MICROVERSION = 79;

/** The minor number of the caller's 2.x, kept in `res.locals.microversion`. */
export function microversionOf(res: Response): number {
  return (res.locals.microversion as number | undefined) ?? MIN_MICROVERSION;
}

export function atLeast(res: Response, minor: number): boolean {
  return microversionOf(res) >= minor;
}

function asked(req: Request): string | undefined {
  const modern = req.get('OpenStack-API-Version');
  if (modern) {
    const m = /(?:^|,)\s*compute\s+([^\s,]+)/i.exec(modern);
    if (m) return m[1];
  }
  return req.get('X-OpenStack-Nova-API-Version') ?? undefined;
}

export function novaMicroversion(fault: (res: Response, status: number, message: string) => void) {
  return (req: Request, res: Response, next: NextFunction) => {
    const v = asked(req);
    let minor = MIN_MICROVERSION;
    if (v?.toLowerCase() === 'latest') minor = MAX_MICROVERSION;
    else if (v) {
      const m = /^2\.(\d+)$/.exec(v.trim());
      if (!m) return fault(res, 400, `Invalid API version request string: ${v}`);
      minor = Number(m[1]);
      if (minor < MIN_MICROVERSION || minor > MAX_MICROVERSION)
        return fault(
          res,
          406,
          `Version 2.${minor} is not supported by the API. Minimum is 2.${MIN_MICROVERSION} and maximum is 2.${MAX_MICROVERSION}.`,
        );
    }
    res.locals.microversion = minor;
    res.set('OpenStack-API-Version', `compute 2.${minor}`);
    res.set('X-OpenStack-Nova-API-Version', `2.${minor}`);
    res.set('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
    next();
  };
}

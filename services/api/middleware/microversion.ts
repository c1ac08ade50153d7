/**
 * Microversion negotiation, Nova style: the negotiated version is echoed on
 * every response and `Vary` tells caches the header changes the answer.
 */
import type { RequestHandler } from 'express';
import { DragonError } from '../../common/errors.js';
import { formatVersion, negotiate, SERVICE_TYPE } from '../microversion.js';

export const VERSION_HEADER = 'OpenStack-API-Version';

export function microversion(): RequestHandler {
  return (req, res, next) => {
    res.append('Vary', VERSION_HEADER);
    const result = negotiate(req.get(VERSION_HEADER));
    if ('error' in result) return next(new DragonError(406, result.error));
    res.locals.apiVersion = result.version;
    res.setHeader(VERSION_HEADER, `${SERVICE_TYPE} ${formatVersion(result.version)}`);
    next();
  };
}

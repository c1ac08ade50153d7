/**
 * One line per request once the response is sent: method, path, status,
 * time. Headers are never logged (they carry tokens); query strings only
 * hold list parameters.
 */
import type { RequestHandler } from 'express';
import { getLogger } from '../../common/log.js';

export function accessLog(): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const bindings: Record<string, unknown> = { request_id: res.locals.requestId };
      if (res.locals.globalRequestId) bindings.global_request_id = res.locals.globalRequestId;
      getLogger('dragon-api', bindings).info(
        {
          method: req.method,
          path: req.originalUrl,
          status: res.statusCode,
          duration_ms: Math.round(ms * 10) / 10,
          remote_addr: req.socket.remoteAddress,
          user_id: req.context?.userId,
          project_id: req.context?.projectId,
        },
        `${req.method} ${req.originalUrl} ${res.statusCode}`,
      );
    });
    next();
  };
}

/**
 * One line per request once the response is sent: method, path, status,
 * time. Headers are never logged (they carry tokens); query strings only
 * hold list parameters.
 */
import type { RequestHandler } from 'express';
import { rootLogger } from '../../common/log.js';

export function accessLog(): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const log = rootLogger();
      if (!log.isLevelEnabled('info')) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // The fields getLogger('dragon-api', { request_id, global_request_id }) would bind, in its order.
      const line: Record<string, unknown> = { service: 'dragon-api', request_id: res.locals.requestId };
      if (res.locals.globalRequestId) line.global_request_id = res.locals.globalRequestId;
      line.method = req.method;
      line.path = req.originalUrl;
      line.status = res.statusCode;
      line.duration_ms = Math.round(ms * 10) / 10;
      line.remote_addr = req.socket.remoteAddress;
      line.user_id = req.context?.userId;
      line.project_id = req.context?.projectId;
      log.info(line, `${req.method} ${req.originalUrl} ${res.statusCode}`);
    });
    next();
  };
}

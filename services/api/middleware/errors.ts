/**
 * The tail of the middleware chain: unknown routes, and the one place that
 * turns any error into the OpenStack error body
 * `{"error": {"code", "title", "message", "request_id"}}`.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { DragonError, httpTitle } from '../../common/errors.js';
import { getLogger } from '../../common/log.js';

export function notFound(): RequestHandler {
  return (req, _res, next) =>
    next(new DragonError(404, `The resource ${req.baseUrl}${req.path} could not be found.`));
}

export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = allowed.map((m) => m.toUpperCase()).join(', ');
  return (req, _res, next) =>
    next(
      new DragonError(405, `Method ${req.method} is not allowed on ${req.baseUrl}${req.path}.`, {
        Allow: allow,
      }),
    );
}

/** Errors raised by body-parser carry `status` and `type`; map them to our codes and words. */
function fromBodyParser(err: { status?: number; type?: string; message?: string }): DragonError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return new DragonError(413, 'Request body is larger than the 1 MiB limit.');
    case 'entity.parse.failed':
      // The parser's message quotes the body back; the body may hold a password, so it stays out.
      return new DragonError(400, 'Malformed JSON in request body.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DragonError(415, err.message ?? 'Unsupported encoding.');
    case 'request.aborted':
    case 'request.size.invalid':
      return new DragonError(400, err.message ?? 'Bad request body.');
    default:
      return undefined;
  }
}

/** Driver errors may quote a connection URL; its password must not reach the log. */
function scrubbed(err: unknown): { type: string; message: string; stack?: string } {
  const hide = (text: string) => text.replace(/(\/\/[^:/@\s]+):[^@\s]*@/g, '$1:****@');
  const e = err instanceof Error ? err : new Error(String(err));
  return { type: e.name, message: hide(e.message), stack: e.stack ? hide(e.stack) : undefined };
}

export function errorHandler(): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = res.locals.requestId as string | undefined;
    let error: DragonError;
    if (err instanceof DragonError) error = err;
    else {
      const mapped = typeof err === 'object' && err !== null ? fromBodyParser(err) : undefined;
      if (mapped) error = mapped;
      else {
        // Internal details stay in the log; the caller gets the request id to quote.
        getLogger('dragon-api', { request_id: requestId }).error(
          { err: scrubbed(err), method: req.method, path: req.originalUrl },
          'unhandled error',
        );
        error = new DragonError(500, 'An unexpected error occurred; quote the request id to the operator.');
      }
    }
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    res.status(error.code).json({
      error: {
        code: error.code,
        title: httpTitle(error.code),
        message: error.message,
        request_id: requestId,
      },
    });
  };
}

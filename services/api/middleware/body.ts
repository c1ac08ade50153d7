/**
 * Request bodies are JSON, at most 1 MiB. A body in another media type is
 * refused (415) before it is parsed, so a form post can never be mistaken
 * for an empty JSON object.
 */
import express, { type RequestHandler } from 'express';
import { DragonError } from '../../common/errors.js';

export const MAX_BODY_BYTES = 1024 * 1024;

function hasBody(req: Parameters<RequestHandler>[0]): boolean {
  const length = req.get('content-length');
  if (length !== undefined) return Number(length) > 0;
  return req.get('transfer-encoding') !== undefined;
}

export function jsonBody(): RequestHandler[] {
  return [
    (req, _res, next) => {
      if (hasBody(req) && !req.is('application/json')) {
        return next(
          new DragonError(
            415,
            `Content type "${req.get('content-type') ?? 'none'}" is not supported; use application/json.`,
          ),
        );
      }
      next();
    },
    express.json({ limit: MAX_BODY_BYTES, strict: false, type: 'application/json' }),
  ];
}

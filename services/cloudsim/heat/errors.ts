/**
 * Heat's error body, as heat-api's fault middleware writes it:
 * `{"code": 400, "error": {"message", "traceback": null, "type"}, "explanation", "title"}`.
 * `type` is the name of the Heat exception class (StackValidationFailed, EntityNotFound, ...).
 */
import type { Response } from 'express';

const TITLES: Record<number, [string, string]> = {
  400: [
    'Bad Request',
    'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  ],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  500: [
    'Internal Server Error',
    'The server has either erred or is incapable of performing the requested operation.',
  ],
};

export class HeatError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export function sendHeatError(res: Response, err: unknown): void {
  const e =
    err instanceof HeatError
      ? err
      : new HeatError('Error', err instanceof Error ? err.message : String(err), 500);
  const [title, explanation] = TITLES[e.status] ?? TITLES[500];
  res.status(e.status).json({
    code: e.status,
    error: { message: e.message, traceback: null, type: e.type },
    explanation,
    title,
  });
}

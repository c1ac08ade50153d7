/**
 * Errors that map to an HTTP status and the OpenStack error body. Domain code
 * throws these; the API's error handler serialises them.
 */
const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class DragonError extends Error {
  override name = 'DragonError';
  constructor(
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  get title(): string {
    return TITLES[this.code] ?? 'Error';
  }
}

export const badRequest = (msg: string) => new DragonError(400, msg);
export const notFound = (msg: string) => new DragonError(404, msg);
export const conflict = (msg: string) => new DragonError(409, msg);
export const forbidden = (msg: string) => new DragonError(403, msg);

export function httpTitle(code: number): string {
  return TITLES[code] ?? 'Error';
}

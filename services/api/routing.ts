/**
 * Registers one path with its method handlers, and answers 405 with an
 * `Allow` header for any other method, so "wrong method" is never confused
 * with "no such resource".
 */
import type { IRouter, RequestHandler } from 'express';
import { methodNotAllowed } from './middleware/errors.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export function route(
  router: IRouter,
  path: string,
  handlers: Partial<Record<Method, RequestHandler>>,
): void {
  const r = router.route(path);
  for (const [method, handler] of Object.entries(handlers) as [Method, RequestHandler][]) r[method](handler);
  const allowed = Object.keys(handlers).map((m) => m.toUpperCase());
  if (allowed.includes('GET')) allowed.push('HEAD');
  r.all(methodNotAllowed(allowed));
}

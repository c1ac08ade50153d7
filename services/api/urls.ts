import type { Request } from 'express';

/**
 * The URL clients reached us at, for `Location`, `links` and the version
 * document. Behind a proxy, configure it to pass Host (and X-Forwarded-Proto
 * with express's "trust proxy").
 */
export function baseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

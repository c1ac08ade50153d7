/**
 * CORS after oslo.middleware's cors filter: only origins named in
 * `[cors] allowed_origin` get CORS headers; a preflight (OPTIONS with
 * Access-Control-Request-Method) is answered here and never reaches auth,
 * since browsers send preflights without credentials.
 */
import type { RequestHandler } from 'express';
import type { GroupValues } from '../../common/config/index.js';
import type { corsOpts } from '../opts.js';

type CorsConf = GroupValues<(typeof corsOpts)['opts']>;

export function cors(conf: CorsConf): RequestHandler {
  const origins = new Set(conf.allowed_origin);
  const methods = conf.allow_methods.map((m) => m.toUpperCase());
  const headers = new Set(conf.allow_headers.map((h) => h.toLowerCase()));
  return (req, res, next) => {
    const origin = req.get('origin');
    if (!origin || origins.size === 0) return next();
    const allowed = origins.has('*') || origins.has(origin);
    res.append('Vary', 'Origin');
    const preflight = req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
    if (preflight) {
      const method = req.get('access-control-request-method')!.toUpperCase();
      const asked = (req.get('access-control-request-headers') ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      // A refused preflight is an empty 200 without CORS headers: the browser then blocks the call.
      if (allowed && methods.includes(method) && asked.every((h) => headers.has(h))) {
        setOrigin(res, origin, conf.allow_credentials);
        res.setHeader('Access-Control-Allow-Methods', methods.join(', '));
        if (asked.length > 0) res.setHeader('Access-Control-Allow-Headers', conf.allow_headers.join(', '));
        res.setHeader('Access-Control-Max-Age', String(conf.max_age));
      }
      res.status(200).end();
      return;
    }
    if (allowed) {
      setOrigin(res, origin, conf.allow_credentials);
      if (conf.expose_headers.length > 0)
        res.setHeader('Access-Control-Expose-Headers', conf.expose_headers.join(', '));
    }
    next();
  };
}

function setOrigin(res: Parameters<RequestHandler>[1], origin: string, credentials: boolean): void {
  // With credentials the browser rejects '*', so the actual origin is echoed.
  res.setHeader('Access-Control-Allow-Origin', origin);
  if (credentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
}

/**
 * The simulator's fault-injection endpoint, on its own port so that it
 * keeps answering while a site is "down": `GET /sim/faults` (all regions),
 * `GET|PUT|DELETE /sim/faults/<region>` with
 * `{outage, services: {<type>: {latencyMs, errorRate, errorBurst, methods}}, stuck: [ids]}`.
 * PUT replaces the region's faults with the body; DELETE clears them.
 * Callers need an admin token of (one of) the simulated Keystones.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { listen } from './server.js';
import type { ServiceFault, SiteFaults } from './site-faults.js';
import type { TokenProvider } from './tokens.js';

export interface AdminApiOptions {
  faults: Record<string, SiteFaults>;
  /** Keystones whose admin tokens are accepted (two in two-clouds mode). */
  tokens: TokenProvider[];
  port?: number;
}

export interface RunningAdminApi {
  url: string;
  close(): Promise<void>;
}

export interface FaultsBody {
  outage?: boolean;
  services?: Record<string, ServiceFault>;
  stuck?: string[];
}

class BadRequest extends Error {}

function validFault(type: string, f: unknown): ServiceFault {
  if (typeof f !== 'object' || f === null) throw new BadRequest(`services.${type} must be an object`);
  const o = f as Record<string, unknown>;
  const num = (k: string, max = Number.POSITIVE_INFINITY) => {
    if (o[k] === undefined) return undefined;
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max)
      throw new BadRequest(`services.${type}.${k} must be a number between 0 and ${max}`);
    return v;
  };
  const methods = o.methods;
  if (methods !== undefined && (!Array.isArray(methods) || methods.some((m) => typeof m !== 'string')))
    throw new BadRequest(`services.${type}.methods must be a list of HTTP methods`);
  return {
    latencyMs: num('latencyMs', 600_000),
    errorRate: num('errorRate', 1),
    errorBurst: num('errorBurst'),
    ...(methods ? { methods: (methods as string[]).map((m) => m.toUpperCase()) } : {}),
  };
}

/** Applies a PUT body: the region's faults become exactly what it says. */
export function applyFaults(target: SiteFaults, body: unknown): void {
  if (typeof body !== 'object' || body === null) throw new BadRequest('body must be a JSON object');
  const b = body as FaultsBody;
  if (b.outage !== undefined && typeof b.outage !== 'boolean')
    throw new BadRequest('outage must be a boolean');
  if (b.stuck !== undefined && (!Array.isArray(b.stuck) || b.stuck.some((s) => typeof s !== 'string')))
    throw new BadRequest('stuck must be a list of resource ids');
  const services = Object.entries(b.services ?? {}).map(([t, f]) => [t, validFault(t, f)] as const);
  target.clear();
  target.outage = b.outage ?? false;
  for (const [t, f] of services) target.set(t, f);
  for (const id of b.stuck ?? []) target.stuck.add(id);
}

export async function startAdminApi(opts: AdminApiOptions): Promise<RunningAdminApi> {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '256kb' }));

  const error = (res: Response, code: number, title: string, message: string) =>
    res.status(code).json({ error: { code, title, message } });

  app.use('/sim', async (req: Request, res: Response, next: NextFunction) => {
    const token = req.get('X-Auth-Token');
    if (!token) return error(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
    for (const provider of opts.tokens) {
      try {
        const { roles } = provider.resolve(await provider.verify(token));
        if (roles.some((r) => r.name === 'admin')) return next();
        return error(res, 403, 'Forbidden', 'The fault endpoint is for cloud admins.');
      } catch {
        // not this Keystone's token; try the next
      }
    }
    error(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
  });

  const region = (req: Request, res: Response): SiteFaults | undefined => {
    const f = opts.faults[String(req.params.region)];
    if (!f) error(res, 404, 'Not Found', `No region ${String(req.params.region)}.`);
    return f;
  };

  app.get('/sim/faults', (_req, res) => {
    res.json(Object.fromEntries(Object.entries(opts.faults).map(([r, f]) => [r, f.snapshot()])));
  });
  app.get('/sim/faults/:region', (req, res) => {
    const f = region(req, res);
    if (f) res.json(f.snapshot());
  });
  app.put('/sim/faults/:region', (req, res) => {
    const f = region(req, res);
    if (!f) return;
    try {
      applyFaults(f, req.body);
    } catch (err) {
      if (err instanceof BadRequest) return error(res, 400, 'Bad Request', err.message);
      throw err;
    }
    res.json(f.snapshot());
  });
  app.delete('/sim/faults/:region', (req, res) => {
    const f = region(req, res);
    if (!f) return;
    f.clear();
    res.status(204).end();
  });
  app.use((_req: Request, res: Response) => {
    error(res, 404, 'Not Found', 'The resource could not be found.');
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if ((err as { status?: number }).status === 400)
      return error(res, 400, 'Bad Request', 'The body is not valid JSON.');
    error(res, 500, 'Internal Server Error', 'The fault endpoint failed.');
  });

  const l = await listen(app, opts.port ?? 0);
  return { url: l.url, close: l.close };
}

/**
 * GET /healthcheck for load balancers (no auth): 200 ok or 503 degraded.
 * The per-dependency detail is for admins only (rule
 * `dragon:healthcheck:detail`), so a token is checked when one is offered
 * and `detail=true` is asked for; a bad token just gets the plain answer.
 */
import type { Request, RequestHandler, Response } from 'express';
import { checkHealth } from '../../common/objects/health.js';
import { boolParam, singleParam, targetFor } from '../context.js';
import type { ApiDeps } from '../deps.js';

export const HEALTHCHECK_DETAIL_RULE = 'dragon:healthcheck:detail';

/** Runs the authenticate middleware without letting its failure end the request. */
function tryAuthenticate(authenticate: RequestHandler, req: Request, res: Response): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const result = authenticate(req, res, (err?: unknown) =>
        resolve(!err && req.context !== undefined),
      ) as unknown;
      if (result instanceof Promise) {
        result.then(
          () => {
            if (res.headersSent) resolve(false);
          },
          () => resolve(false),
        );
      }
    } catch {
      resolve(false);
    }
  });
}

export function healthcheck(deps: ApiDeps): RequestHandler {
  return async (req, res) => {
    const checks = await checkHealth(deps.db, deps.transport);
    const healthy = checks.database === 'ok' && checks.messaging === 'ok';
    const body: Record<string, unknown> = { status: healthy ? 'ok' : 'degraded' };
    const wantsDetail = boolParam(singleParam(req.query.detail, 'detail'), 'detail');
    if (wantsDetail && req.get('x-auth-token') && (await tryAuthenticate(deps.authenticate, req, res))) {
      const ctx = req.context!;
      if (deps.enforcer.enforce(HEALTHCHECK_DETAIL_RULE, targetFor(ctx.projectId), ctx)) body.checks = checks;
    }
    if (res.headersSent) return;
    res.status(healthy ? 200 : 503).json(body);
  };
}

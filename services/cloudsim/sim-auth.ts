/**
 * Token check for the simulated services, the way keystonemiddleware fronts
 * Nova or Cinder: X-Auth-Token validated against the site's Keystone (in
 * process), the caller put in `res.locals.caller`, 401 otherwise.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TokenProvider } from './tokens.js';

export interface SimCaller {
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  roles: string[];
  isAdmin: boolean;
  /** The token itself, for services (Heat) that call other services on the caller's behalf. */
  token: string;
}

export function simAuth(tokens: TokenProvider): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = req.get('X-Auth-Token');
    const unauthorized = () =>
      res
        .status(401)
        .set('WWW-Authenticate', 'Keystone uri="keystone"')
        .json({
          error: {
            code: 401,
            title: 'Unauthorized',
            message: 'The request you have made requires authentication.',
          },
        });
    if (!token) return unauthorized();
    try {
      const claims = await tokens.verify(token);
      const { user, project, roles } = tokens.resolve(claims);
      if (!project) return unauthorized();
      const names = roles.map((r) => r.name);
      const caller: SimCaller = {
        userId: user.id,
        userName: user.name,
        projectId: project.id,
        projectName: project.name,
        roles: names,
        isAdmin: names.includes('admin'),
        token,
      };
      res.locals.caller = caller;
      next();
    } catch {
      unauthorized();
    }
  };
}

export function callerOf(res: Response): SimCaller {
  const c = res.locals.caller as SimCaller | undefined;
  if (!c) throw new Error('simAuth must run before this route');
  return c;
}

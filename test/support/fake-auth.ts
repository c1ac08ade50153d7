/**
 * A stand-in for the Keystone middleware in API tests: the token is
 * `user:project:role,role` in clear, e.g. `alice:p1:member,reader`. Missing
 * or malformed → 401 like a bad Keystone token.
 */
import type { RequestHandler } from 'express';
import '../../services/api/auth/types.js';
import { DragonError } from '../../services/common/errors.js';

export function fakeAuthenticate(): RequestHandler {
  return (req, res, next) => {
    const token = req.get('x-auth-token');
    const parts = token?.split(':');
    if (parts?.length !== 3 || !parts[0]) {
      return next(new DragonError(401, 'The request you have made requires authentication.'));
    }
    const [userId, projectId, roles] = parts;
    req.context = {
      requestId: res.locals.requestId,
      globalRequestId: res.locals.globalRequestId,
      userId,
      projectId: projectId || undefined,
      roles: roles.split(',').filter(Boolean),
      isAdminProject: false,
    };
    next();
  };
}

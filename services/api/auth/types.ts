/**
 * Types of dragon-api authentication, and the express Request augmentation:
 * every route mounted after the auth middleware reads `req.context`.
 */
import type { RequestContext } from '../../common/context.js';
import type { AccessInfo } from '../../common/openstack/session.js';

declare global {
  namespace Express {
    interface Request {
      /** Who is calling; set by the auth middleware before any authenticated route runs. */
      context: RequestContext;
    }
  }
}

export type AuthStrategy = 'keystone' | 'noauth';

/** A token Keystone (or the cache) vouched for. Never holds the token itself. */
export interface ValidatedToken {
  access: AccessInfo;
  /** Keystone's is_admin_project; true when Keystone does not say (keystonemiddleware's default). */
  isAdminProject: boolean;
}

import type { RequestContext } from '../../common/context.js';

declare global {
  namespace Express {
    interface Request {
      context?: RequestContext;
    }
  }
}

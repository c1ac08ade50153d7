export {
  type AuthMiddleware,
  type AuthMiddlewareOptions,
  contextFromToken,
  createAuthMiddleware,
  createAuthMiddlewareFromConfig,
  UNAUTHORIZED_MESSAGE,
} from './middleware.js';
export { expandImpliedRoles, NOAUTH_DEFAULT_ROLES, parseNoauthToken } from './noauth.js';
export { authtokenDefaults, type KeystoneAuthtokenConf, keystoneAuthtokenOpts } from './opts.js';
export type { AuthStrategy, ValidatedToken } from './types.js';
export { IdentityUnavailable, InvalidToken, TokenValidator } from './validator.js';

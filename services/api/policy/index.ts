/** Role-based access control for the REST API, compatible with oslo.policy's rule language and policy files. */
export type { Check, Credentials, Target } from './checks.js';
export { credentialsFromContext, tokenScope } from './credentials.js';
export { apiRules, baseRules, dragonDefaults } from './defaults.js';
export {
  defaultTarget,
  Enforcer,
  type EnforcerOptions,
  enforcerFromConfig,
  type PolicyEnforcer,
  PolicyNotRegistered,
  resolvePolicyFile,
} from './enforcer.js';
export { policyOpts } from './opts.js';
export { PolicyParseError, parseRule } from './parser.js';
export { PolicyFileError, parsePolicyText } from './policy-file.js';
export { renderPolicySample, writePolicySample } from './sample.js';
export type { DeprecatedRule, Operation, RuleDefault, ScopeType } from './types.js';

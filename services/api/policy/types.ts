/**
 * A policy rule declared in code, as oslo.policy's `DocumentedRuleDefault`:
 * the default check string plus what the sample file and operators need to
 * know to override it.
 */

/** Token scopes a rule is meant for. Dragon has no domain-owned objects. */
export type ScopeType = 'project' | 'system';

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  path: string;
}

/** An older name or check string kept working while operators move to the new default. */
export interface DeprecatedRule {
  name: string;
  checkString: string;
  /** Release in which the old rule was deprecated. */
  since: string;
  reason: string;
}

export interface RuleDefault {
  name: string;
  checkString: string;
  description: string;
  /** Empty for base rules that only other rules refer to. */
  operations: readonly Operation[];
  /** Empty means any scope (base rules). */
  scopeTypes: readonly ScopeType[];
  deprecatedRule?: DeprecatedRule;
}

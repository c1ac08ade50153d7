import { pino } from 'pino';
import { Enforcer, type EnforcerOptions, type RuleDefault } from '../../../services/api/policy/index.js';
import type { RequestContext } from '../../../services/common/context.js';

export function context(
  roles: string[],
  projectId?: string,
  extra: Partial<RequestContext> = {},
): RequestContext {
  return { requestId: 'req-test', userId: 'u1', roles, projectId, isAdminProject: false, ...extra };
}

/** A logger whose lines the test can read. */
export function capturingLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { logger, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg), lines };
}

export function rule(name: string, checkString: string, extra: Partial<RuleDefault> = {}): RuleDefault {
  return { name, checkString, description: name, operations: [], scopeTypes: [], ...extra };
}

/** An enforcer over ad-hoc rules, given as name -> check string. */
export function enforcerOf(rules: Record<string, string>, options: Partial<EnforcerOptions> = {}): Enforcer {
  return new Enforcer({
    defaults: Object.entries(rules).map(([n, c]) => rule(n, c)),
    logger: capturingLogger().logger,
    ...options,
  });
}

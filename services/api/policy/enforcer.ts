/**
 * The policy enforcer, as oslo.policy's `Enforcer`: registered defaults,
 * overridden by the operator's policy file (re-read when it changes), checked
 * against credentials built from the request context. The API depends on the
 * PolicyEnforcer interface only.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Config } from '../../common/config/index.js';
import type { RequestContext } from '../../common/context.js';
import { DragonError } from '../../common/errors.js';
import { getLogger, type Logger } from '../../common/log.js';
import { type Check, type Credentials, OrCheck, type RuleLookup, type Target } from './checks.js';
import { credentialsFromContext, tokenScope } from './credentials.js';
import { dragonDefaults } from './defaults.js';
import { policyOpts } from './opts.js';
import { parseRule } from './parser.js';
import { type PolicyFileRules, PolicyFileWatcher } from './policy-file.js';
import type { RuleDefault } from './types.js';

export interface PolicyEnforcer {
  /** True when the rule allows the caller to act on the target. Unknown rules deny. */
  enforce(rule: string, target: Record<string, unknown>, ctx: RequestContext): boolean;
  /**
   * Throws DragonError 403 when the rule denies (or the token has the wrong
   * scope and enforce_scope is on); throws PolicyNotRegistered for a rule name
   * that no code registered, which is a bug in the caller.
   */
  authorize(rule: string, target: Record<string, unknown>, ctx: RequestContext): void;
}

export class PolicyNotRegistered extends Error {
  override name = 'PolicyNotRegistered';
  constructor(readonly rule: string) {
    super(`Policy ${rule} has not been registered`);
  }
}

export interface EnforcerOptions {
  defaults: readonly RuleDefault[];
  /** Path of the policy file; undefined for defaults only. The file may be absent. */
  policyFile?: string;
  enforceScope?: boolean;
  enforceNewDefaults?: boolean;
  /** How often, at most, the policy file is checked for changes. */
  reloadIntervalMs?: number;
  logger?: Logger;
  /** Clock for the reload interval (tests). */
  now?: () => number;
}

type Decision = { allowed: true } | { allowed: false; message: string };

const DEFAULT_RELOAD_INTERVAL_MS = 5000;

export class Enforcer implements PolicyEnforcer {
  readonly enforceScope: boolean;
  readonly enforceNewDefaults: boolean;
  readonly #registered = new Map<string, RuleDefault>();
  readonly #defaultChecks = new Map<string, Check>();
  readonly #watcher: PolicyFileWatcher | undefined;
  readonly #log: Logger;
  readonly #warned = new Set<string>();
  #rules = new Map<string, Check>();
  #texts = new Map<string, string>();

  readonly #lookup: RuleLookup = {
    rule: (name) => this.#rules.get(name),
    onBadReference: (name, why) =>
      this.#warnOnce(
        `ref:${why}:${name}`,
        why === 'unknown'
          ? `Policy rule "${name}" is referenced (rule:${name}) but not defined; the reference denies`
          : `Policy rule "${name}" refers to itself through rule: references; the reference denies`,
      ),
  };

  constructor(options: EnforcerOptions) {
    this.enforceScope = options.enforceScope ?? false;
    this.enforceNewDefaults = options.enforceNewDefaults ?? true;
    this.#log = options.logger ?? getLogger('policy');
    for (const d of options.defaults) {
      if (this.#registered.has(d.name)) throw new Error(`Policy ${d.name} is registered twice`);
      this.#registered.set(d.name, d);
      // A bad default is a bug in the code, so this throws at start-up.
      this.#defaultChecks.set(d.name, parseRule(d.name, d.checkString));
    }
    if (options.policyFile) {
      this.#watcher = new PolicyFileWatcher(
        options.policyFile,
        options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS,
        options.now,
      );
      // At start-up a bad policy file is fatal, so the operator sees it at once.
      const first = this.#watcher.poll(true);
      this.#apply(first.state === 'loaded' ? first.rules : undefined);
      if (first.state === 'missing')
        this.#log.debug({ policy_file: options.policyFile }, 'No policy file; using the default rules');
    } else {
      this.#apply(undefined);
    }
  }

  enforce(rule: string, target: Record<string, unknown>, ctx: RequestContext): boolean {
    return this.#decide(rule, target, ctx).allowed;
  }

  authorize(rule: string, target: Record<string, unknown>, ctx: RequestContext): void {
    if (!this.#registered.has(rule)) throw new PolicyNotRegistered(rule);
    const decision = this.#decide(rule, target, ctx);
    if (!decision.allowed) throw new DragonError(403, decision.message);
  }

  /** The effective check string of every rule (defaults merged with the policy file), for diagnostics. */
  effectiveRules(): Record<string, string> {
    this.#reloadIfChanged();
    return Object.fromEntries([...this.#texts].sort(([a], [b]) => a.localeCompare(b)));
  }

  #decide(rule: string, target: Target, ctx: RequestContext): Decision {
    this.#reloadIfChanged();
    const denied: Decision = { allowed: false, message: `Policy doesn't allow ${rule} to be performed.` };
    const creds = this.#credentials(ctx);
    const registered = this.#registered.get(rule);
    if (registered && registered.scopeTypes.length > 0) {
      const scope = tokenScope(creds);
      if (!(registered.scopeTypes as readonly string[]).includes(scope)) {
        if (this.enforceScope) {
          // oslo.policy's InvalidScope, which services turn into 403.
          return {
            allowed: false,
            message: `${rule} requires a scope of ${registered.scopeTypes.join(', ')}, request was made with ${scope} scope.`,
          };
        }
        this.#warnOnce(
          `scope:${rule}`,
          `Policy ${rule} failed scope check. The token used to make the request was ${scope} scoped ` +
            `but the policy requires ${registered.scopeTypes.join(', ')} scope. This will be denied ` +
            'when [oslo_policy] enforce_scope is true.',
        );
      }
    }
    const check = this.#rules.get(rule);
    if (!check) {
      this.#log.debug({ rule }, 'Policy rule does not exist; denying');
      return denied;
    }
    return check.evaluate(target, creds, this.#lookup, [rule]) ? { allowed: true } : denied;
  }

  /** oslo.context's credentials, with is_admin decided by the context_is_admin rule as Nova and Cinder do. */
  #credentials(ctx: RequestContext): Credentials {
    const creds = credentialsFromContext(ctx);
    const isAdmin = this.#rules.get('context_is_admin');
    if (!isAdmin) return creds;
    return { ...creds, is_admin: isAdmin.evaluate(creds, creds, this.#lookup, ['context_is_admin']) };
  }

  #reloadIfChanged(): void {
    if (!this.#watcher) return;
    try {
      const result = this.#watcher.poll();
      if (result.state === 'unchanged') return;
      if (result.state === 'missing') {
        this.#log.warn({ policy_file: this.#watcher.path }, 'Policy file removed; using the default rules');
        this.#apply(undefined);
        return;
      }
      this.#apply(result.rules);
      this.#log.info({ policy_file: this.#watcher.path }, 'Policy file reloaded');
    } catch (err) {
      // A running API keeps its last good rules rather than failing every request.
      this.#log.error(
        { policy_file: this.#watcher.path, err: (err as Error).message },
        'Policy file is invalid; keeping the rules loaded before',
      );
    }
  }

  /** Merges the defaults with a policy file's rules, as oslo's load_rules does. */
  #apply(file: PolicyFileRules | undefined): void {
    const rules = new Map<string, Check>();
    const texts = new Map<string, string>();
    const fileChecks = file?.checks ?? new Map<string, Check>();
    const fileTexts = file?.texts ?? new Map<string, string>();
    const deprecatedNames = new Set<string>();
    for (const [name, d] of this.#registered) {
      rules.set(name, this.#defaultChecks.get(name)!);
      texts.set(name, d.checkString);
      const old = d.deprecatedRule;
      if (!old || fileChecks.has(name)) continue;
      deprecatedNames.add(old.name);
      if (old.name !== name && fileChecks.has(old.name)) {
        // The operator customised the old name: honour it for the new name too.
        this.#log.warn(
          { rule: name, deprecated: old.name },
          `Policy "${old.name}" is deprecated in favour of "${name}"; using its override from the policy file for both`,
        );
        rules.set(name, fileChecks.get(old.name)!);
        texts.set(name, fileTexts.get(old.name)!);
      } else if (!this.enforceNewDefaults && old.checkString !== d.checkString) {
        rules.set(name, new OrCheck([rules.get(name)!, parseRule(old.name, old.checkString)]));
        texts.set(name, `(${d.checkString}) or (${old.checkString})`);
      }
    }
    for (const [name, check] of fileChecks) {
      if (!this.#registered.has(name) && !deprecatedNames.has(name))
        this.#log.warn(
          { rule: name },
          `Policy file defines "${name}", which is not a registered rule; it only matters where another rule refers to it`,
        );
      rules.set(name, check);
      texts.set(name, fileTexts.get(name)!);
    }
    this.#rules = rules;
    this.#texts = texts;
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#log.warn(message);
  }
}

/** The target for calls that act on the caller's own project (lists, creates). */
export function defaultTarget(ctx: RequestContext): Record<string, unknown> {
  return { project_id: ctx.projectId, user_id: ctx.userId };
}

/**
 * Where a relative policy_file is: next to a config file, then in /etc/dragon,
 * then in the working directory (also the answer when it exists nowhere yet,
 * so creating it there later takes effect).
 */
export function resolvePolicyFile(
  policyFile: string,
  configFiles: readonly string[],
  cwd: string = process.cwd(),
): string {
  if (isAbsolute(policyFile)) return policyFile;
  const candidates = [
    ...configFiles.map((f) => resolve(dirname(f), policyFile)),
    resolve('/etc/dragon', policyFile),
    resolve(cwd, policyFile),
  ];
  return candidates.find((p) => existsSync(p)) ?? resolve(cwd, policyFile);
}

/** The enforcer dragon-api uses, configured from `[oslo_policy]`. */
export function enforcerFromConfig(
  conf: Config,
  defaults: readonly RuleDefault[] = dragonDefaults,
  extra: Pick<EnforcerOptions, 'logger' | 'reloadIntervalMs'> = {},
): Enforcer {
  const opts = conf.get(policyOpts);
  return new Enforcer({
    defaults,
    policyFile: opts.policy_file ? resolvePolicyFile(opts.policy_file, conf.sources.configFiles) : undefined,
    enforceScope: opts.enforce_scope,
    enforceNewDefaults: opts.enforce_new_defaults,
    ...extra,
  });
}

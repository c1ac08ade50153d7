/**
 * The checks of oslo.policy's rule language (`oslo_policy/_checks.py`),
 * evaluated against a target (the object acted on) and the caller's
 * credentials. Comparisons are done on Python-style string forms because
 * that is what oslo does (`match == str(value)`): `is_admin:True` matches the
 * boolean true, `%(x)s` of a null is `None`. Policy files written for other
 * OpenStack services therefore mean the same thing here.
 */

export type Target = Readonly<Record<string, unknown>>;
export type Credentials = Readonly<Record<string, unknown>>;

/** What a check needs from the enforcer: the rules `rule:NAME` refers to. */
export interface RuleLookup {
  /** The parsed rule, or undefined when no rule has that name. */
  rule(name: string): Check | undefined;
  /** Called once per evaluation that hits a missing or cyclic reference. */
  onBadReference(name: string, why: 'unknown' | 'cycle'): void;
}

/** The rule names being evaluated, outermost first, so cycles end as a denial instead of a stack overflow. */
export type EvalStack = readonly string[];

export interface Check {
  evaluate(target: Target, creds: Credentials, rules: RuleLookup, stack: EvalStack): boolean;
  /** The canonical text, fully parenthesised, as oslo's `str(check)`. */
  toString(): string;
}

/** Python's `str()` of a JSON-ish value, which oslo compares against. */
export function pythonStr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/**
 * Python's `match % target` for the `%(key)s` form oslo uses. Returns
 * undefined where Python raises (a missing key, an unsupported conversion):
 * oslo treats that as "does not match".
 */
export function substitute(match: string, target: Target): string | undefined {
  let failed = false;
  const out = match.replace(/%(?:\(([^)]*)\)([a-z])|%|.?)/g, (whole, key, conv) => {
    if (whole === '%%') return '%';
    if (key === undefined || conv !== 's') {
      failed = true;
      return '';
    }
    if (!Object.hasOwn(target, key) || target[key] === undefined) {
      failed = true;
      return '';
    }
    return pythonStr(target[key]);
  });
  return failed ? undefined : out;
}

/** `@`: always allowed. Also what an empty rule means. */
export class TrueCheck implements Check {
  evaluate(): boolean {
    return true;
  }
  toString(): string {
    return '@';
  }
}

/** `!`: never allowed. */
export class FalseCheck implements Check {
  evaluate(): boolean {
    return false;
  }
  toString(): string {
    return '!';
  }
}

export class NotCheck implements Check {
  constructor(readonly rule: Check) {}
  evaluate(target: Target, creds: Credentials, rules: RuleLookup, stack: EvalStack): boolean {
    return !this.rule.evaluate(target, creds, rules, stack);
  }
  toString(): string {
    return `not ${this.rule}`;
  }
}

export class AndCheck implements Check {
  constructor(readonly rules: readonly Check[]) {}
  evaluate(target: Target, creds: Credentials, lookup: RuleLookup, stack: EvalStack): boolean {
    return this.rules.every((r) => r.evaluate(target, creds, lookup, stack));
  }
  toString(): string {
    return `(${this.rules.map(String).join(' and ')})`;
  }
}

export class OrCheck implements Check {
  constructor(readonly rules: readonly Check[]) {}
  evaluate(target: Target, creds: Credentials, lookup: RuleLookup, stack: EvalStack): boolean {
    return this.rules.some((r) => r.evaluate(target, creds, lookup, stack));
  }
  toString(): string {
    return `(${this.rules.map(String).join(' or ')})`;
  }
}

/** `role:NAME`: the caller holds the role, compared case-insensitively as Keystone role names are. */
export class RoleCheck implements Check {
  constructor(readonly match: string) {}
  evaluate(target: Target, creds: Credentials): boolean {
    const wanted = substitute(this.match, target);
    if (wanted === undefined || !Array.isArray(creds.roles)) return false;
    const lower = wanted.toLowerCase();
    return creds.roles.some((r) => String(r).toLowerCase() === lower);
  }
  toString(): string {
    return `role:${this.match}`;
  }
}

/** `rule:NAME`: another rule's result. A missing rule denies (fail closed), as in oslo. */
export class RuleCheck implements Check {
  constructor(readonly match: string) {}
  evaluate(target: Target, creds: Credentials, rules: RuleLookup, stack: EvalStack): boolean {
    if (stack.includes(this.match)) {
      rules.onBadReference(this.match, 'cycle');
      return false;
    }
    const rule = rules.rule(this.match);
    if (!rule) {
      rules.onBadReference(this.match, 'unknown');
      return false;
    }
    return rule.evaluate(target, creds, rules, [...stack, this.match]);
  }
  toString(): string {
    return `rule:${this.match}`;
  }
}

/** A Python literal on the left of a generic check (`'member':%(role)s`, `True:%(shared)s`), as its `str()`. */
function literalKind(kind: string): string | undefined {
  const quoted = /^'([^'\\]*)'$|^"([^"\\]*)"$/.exec(kind);
  if (quoted) return quoted[1] ?? quoted[2];
  if (kind === 'True' || kind === 'False' || kind === 'None') return kind;
  if (/^-?\d+$/.test(kind)) return String(Number.parseInt(kind, 10));
  return undefined;
}

/**
 * `KEY:VALUE`: the credential at KEY (a dotted path; lists match when any
 * element does) equals VALUE after `%(target_key)s` substitution. When KEY is
 * a literal, VALUE is compared with it instead of with a credential.
 */
export class GenericCheck implements Check {
  constructor(
    readonly kind: string,
    readonly match: string,
  ) {}

  evaluate(target: Target, creds: Credentials): boolean {
    const match = substitute(this.match, target);
    if (match === undefined) return false;
    const literal = literalKind(this.kind);
    if (literal !== undefined) return match === literal;
    return findInDict(creds, this.kind.split('.'), match);
  }

  toString(): string {
    return `${this.kind}:${this.match}`;
  }
}

function findInDict(value: unknown, path: readonly string[], match: string): boolean {
  if (path.length === 0) return match === pythonStr(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const [key, ...rest] = path;
  // A credential that is not set at all never matches, even a target value of None:
  // that keeps an unscoped token from matching objects without an owner.
  if (!Object.hasOwn(value, key)) return false;
  const next = (value as Record<string, unknown>)[key];
  if (next === undefined) return false;
  if (Array.isArray(next)) return next.some((v) => findInDict(v, rest, match));
  return findInDict(next, rest, match);
}

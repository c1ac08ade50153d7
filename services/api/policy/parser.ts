/**
 * Parses oslo.policy check strings (`oslo_policy/_parser.py`): tokens are
 * split on white space, parentheses may stick to a check (`(role:a`), the
 * keywords `and`, `or`, `not` are case-insensitive, and precedence is
 * not > and > or. The old list-of-lists form of JSON policy files is read too.
 * Unlike oslo, which logs and turns an unparsable rule into `!`, a bad rule is
 * an error naming it: an operator's typo should stop start-up, not silently
 * lock everyone out.
 */
import {
  AndCheck,
  type Check,
  FalseCheck,
  GenericCheck,
  NotCheck,
  OrCheck,
  RoleCheck,
  RuleCheck,
  TrueCheck,
} from './checks.js';

export class PolicyParseError extends Error {
  override name = 'PolicyParseError';
  constructor(
    readonly rule: string,
    readonly checkString: string,
    why: string,
  ) {
    super(`Invalid policy rule "${rule}": ${why} in ${JSON.stringify(checkString)}`);
  }
}

type Token =
  | { kind: '(' | ')' | 'and' | 'or' | 'not' }
  | { kind: 'check'; check: Check; text: string }
  | { kind: 'string'; text: string };

function parseCheck(text: string, fail: (why: string) => never): Check {
  if (text === '@') return new TrueCheck();
  if (text === '!') return new FalseCheck();
  const colon = text.indexOf(':');
  if (colon <= 0) fail(`"${text}" is not a check (expected KIND:MATCH, @ or !)`);
  const kind = text.slice(0, colon);
  const match = text.slice(colon + 1);
  switch (kind) {
    case 'role':
      return new RoleCheck(match);
    case 'rule':
      return new RuleCheck(match);
    case 'http':
    case 'https':
      return fail(`"${text}": remote ${kind} checks are not supported`);
    default:
      return new GenericCheck(kind, match);
  }
}

function tokenize(text: string, fail: (why: string) => never): Token[] {
  const tokens: Token[] = [];
  for (const raw of text.split(/\s+/)) {
    if (!raw) continue;
    let tok = raw;
    while (tok.startsWith('(')) {
      tokens.push({ kind: '(' });
      tok = tok.slice(1);
    }
    if (!tok) continue;
    let trailing = 0;
    while (tok.endsWith(')')) {
      trailing++;
      tok = tok.slice(0, -1);
    }
    const lower = tok.toLowerCase();
    if (lower === 'and' || lower === 'or' || lower === 'not') tokens.push({ kind: lower });
    else if (tok.length >= 2 && (tok[0] === '"' || tok[0] === "'") && tok.at(-1) === tok[0])
      tokens.push({ kind: 'string', text: tok.slice(1, -1) });
    else if (tok) tokens.push({ kind: 'check', check: parseCheck(tok, fail), text: tok });
    for (let i = 0; i < trailing; i++) tokens.push({ kind: ')' });
  }
  return tokens;
}

/** Parses one check string; `rule` only names it in errors. An empty string is `@`. */
export function parseRule(rule: string, checkString: string): Check {
  const fail = (why: string): never => {
    throw new PolicyParseError(rule, checkString, why);
  };
  const tokens = tokenize(checkString, fail);
  if (tokens.length === 0) return new TrueCheck();
  let pos = 0;
  const describe = (t: Token | undefined) =>
    t === undefined
      ? 'end of rule'
      : t.kind === 'check' || t.kind === 'string'
        ? `"${t.text}"`
        : `"${t.kind}"`;

  const orExpr = (): Check => {
    const parts = [andExpr()];
    while (tokens[pos]?.kind === 'or') {
      pos++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0] : new OrCheck(parts);
  };
  const andExpr = (): Check => {
    const parts = [unary()];
    while (tokens[pos]?.kind === 'and') {
      pos++;
      parts.push(unary());
    }
    return parts.length === 1 ? parts[0] : new AndCheck(parts);
  };
  const unary = (): Check => {
    const tok = tokens[pos];
    if (tok?.kind === 'not') {
      pos++;
      return new NotCheck(unary());
    }
    if (tok?.kind === '(') {
      pos++;
      const inner = orExpr();
      if (tokens[pos]?.kind !== ')') fail(`expected ")" but found ${describe(tokens[pos])}`);
      pos++;
      return inner;
    }
    if (tok?.kind === 'check') {
      pos++;
      return tok.check;
    }
    return fail(`expected a check but found ${describe(tok)}`);
  };

  const result = orExpr();
  if (pos < tokens.length) fail(`unexpected ${describe(tokens[pos])}`);
  return result;
}

/**
 * The legacy JSON form: a list of alternatives, each a list of checks that
 * must all pass (`[["role:a", "role:b"], ["role:c"]]`). An empty list is `@`.
 */
export function parseListRule(rule: string, alternatives: readonly unknown[]): Check {
  if (alternatives.length === 0) return new TrueCheck();
  const ors: Check[] = [];
  for (const alt of alternatives) {
    const ands = (Array.isArray(alt) ? alt : [alt]).map((c) => {
      if (typeof c !== 'string')
        throw new PolicyParseError(rule, JSON.stringify(alternatives), 'list rules must hold strings');
      return parseRule(rule, c);
    });
    if (ands.length === 0) continue;
    ors.push(ands.length === 1 ? ands[0] : new AndCheck(ands));
  }
  if (ors.length === 0) return new FalseCheck();
  return ors.length === 1 ? ors[0] : new OrCheck(ors);
}

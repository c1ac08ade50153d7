import { describe, expect, it } from 'vitest';
import { Enforcer, PolicyParseError, parseRule } from '../../../services/api/policy/index.js';
import { capturingLogger, context, enforcerOf, rule } from './helpers.js';

/** Evaluates one check string for a caller and target, through the public enforcer. */
function allows(
  checkString: string,
  caller = context(['member'], 'p1'),
  target: Record<string, unknown> = { project_id: 'p1' },
  others: Record<string, string> = {},
): boolean {
  return enforcerOf({ subject: checkString, ...others }).enforce('subject', target, caller);
}

describe('rule language', () => {
  it('role: matches a role the caller holds, ignoring case', () => {
    expect(allows('role:member')).toBe(true);
    expect(allows('role:MEMBER')).toBe(true);
    expect(allows('role:member', context(['Member'], 'p1'))).toBe(true);
    expect(allows('role:admin')).toBe(false);
  });

  it('@ always allows, ! never does, and an empty rule means @', () => {
    expect(allows('@', context([]))).toBe(true);
    expect(allows('!', context(['admin'], 'p1'))).toBe(false);
    expect(allows('', context([]))).toBe(true);
    expect(allows('   ', context([]))).toBe(true);
  });

  it('rule: evaluates another rule', () => {
    expect(allows('rule:other', undefined, undefined, { other: 'role:member' })).toBe(true);
    expect(allows('rule:other', undefined, undefined, { other: 'role:reader' })).toBe(false);
  });

  it('rule: naming an unknown rule denies and warns once', () => {
    const log = capturingLogger();
    const enforcer = new Enforcer({
      defaults: [rule('subject', 'rule:missing or role:nobody')],
      logger: log.logger,
    });
    const caller = context(['admin'], 'p1');
    expect(enforcer.enforce('subject', {}, caller)).toBe(false);
    expect(enforcer.enforce('subject', {}, caller)).toBe(false);
    const warnings = log.warnings().filter((w) => w.includes('"missing"'));
    expect(warnings).toHaveLength(1);
  });

  it('rule: cycles deny instead of recursing forever', () => {
    const enforcer = enforcerOf({ a: 'rule:b', b: 'rule:a or role:nobody' });
    expect(enforcer.enforce('a', {}, context(['admin']))).toBe(false);
  });

  it('and needs both sides, or needs either, not inverts', () => {
    const caller = context(['reader', 'member'], 'p1');
    expect(allows('role:reader and role:member', caller)).toBe(true);
    expect(allows('role:reader and role:admin', caller)).toBe(false);
    expect(allows('role:admin or role:member', caller)).toBe(true);
    expect(allows('role:admin or role:auditor', caller)).toBe(false);
    expect(allows('not role:admin', caller)).toBe(true);
    expect(allows('not role:member', caller)).toBe(false);
    expect(allows('not not role:member', caller)).toBe(true);
  });

  it('keywords are case-insensitive', () => {
    const caller = context(['reader'], 'p1');
    expect(allows('role:admin OR role:reader', caller)).toBe(true);
    expect(allows('NOT role:admin AND role:reader', caller)).toBe(true);
  });

  it('precedence is not > and > or', () => {
    const caller = context(['a'], 'p1');
    // a or (b and c): true. (a or b) and c would be false.
    expect(allows('role:a or role:b and role:c', caller)).toBe(true);
    // (b and c) or a: true.
    expect(allows('role:b and role:c or role:a', caller)).toBe(true);
    // (not a) and b: false; not (a and b) would be true.
    expect(allows('not role:a and role:b', caller)).toBe(false);
    // (not b) or c: true.
    expect(allows('not role:b or role:c', caller)).toBe(true);
  });

  it('parentheses group, also when stuck to a check', () => {
    const caller = context(['a'], 'p1');
    expect(allows('(role:a or role:b) and role:c', caller)).toBe(false);
    expect(allows('role:a or (role:b and role:c)', caller)).toBe(true);
    expect(allows('not (role:a and role:b)', caller)).toBe(true);
    expect(allows('((role:a))', caller)).toBe(true);
    expect(allows('( role:b or role:a ) and ( project_id:%(project_id)s )', caller)).toBe(true);
    expect(allows('(role:b or project_id:%(project_id)s)', caller)).toBe(true);
  });

  it('generic checks compare a credential with a %(key)s value of the target', () => {
    const caller = context(['member'], 'p1');
    expect(allows('project_id:%(project_id)s', caller, { project_id: 'p1' })).toBe(true);
    expect(allows('project_id:%(project_id)s', caller, { project_id: 'p2' })).toBe(false);
    // A key the target lacks never matches (oslo: KeyError -> False).
    expect(allows('project_id:%(project_id)s', caller, {})).toBe(false);
    expect(allows('user_id:%(user_id)s', caller, { user_id: 'u1' })).toBe(true);
    expect(allows('user_id:%(owner)s', caller, { owner: 'u2' })).toBe(false);
    // A constant on the right compares directly.
    expect(allows('project_id:p1', caller)).toBe(true);
    expect(allows('system_scope:all', context(['admin'], undefined, { systemScope: 'all' }))).toBe(true);
    expect(allows('system_scope:all', caller)).toBe(false);
  });

  it('a credential the token does not carry never matches, even a None target', () => {
    const systemCaller = context(['admin'], undefined, { systemScope: 'all' });
    expect(allows('project_id:%(project_id)s', systemCaller, { project_id: null })).toBe(false);
  });

  it('generic checks walk dotted paths and match any element of a list', () => {
    const caller = context(['reader', 'member'], 'p1');
    expect(allows('roles:member', caller)).toBe(true);
    expect(allows('roles:admin', caller)).toBe(false);
  });

  it('is_admin:True holds for the admin role and follows context_is_admin', () => {
    expect(allows('is_admin:True', context(['admin'], 'p1'))).toBe(true);
    expect(allows('is_admin:True', context(['member'], 'p1'))).toBe(false);
    expect(allows('is_admin:False', context(['member'], 'p1'))).toBe(true);
    const custom = { context_is_admin: 'role:cloud_admin' };
    expect(allows('is_admin:True', context(['cloud_admin'], 'p1'), {}, custom)).toBe(true);
    expect(allows('is_admin:True', context(['admin'], 'p1'), {}, custom)).toBe(false);
  });

  it('literal True/False and quoted strings on the left compare with the target value', () => {
    const caller = context(['member'], 'p1');
    expect(allows('True:%(shared)s', caller, { shared: true })).toBe(true);
    expect(allows('True:%(shared)s', caller, { shared: false })).toBe(false);
    expect(allows('False:%(shared)s', caller, { shared: false })).toBe(true);
    expect(allows("'gold':%(tier)s", caller, { tier: 'gold' })).toBe(true);
    expect(allows('"gold":%(tier)s', caller, { tier: 'silver' })).toBe(false);
    expect(allows('is_admin_project:False', caller)).toBe(true);
  });

  it('role: may take its name from the target', () => {
    expect(allows('role:%(needed)s', context(['auditor'], 'p1'), { needed: 'auditor' })).toBe(true);
    expect(allows('role:%(needed)s', context(['auditor'], 'p1'), {})).toBe(false);
  });

  it('parse errors name the rule and the problem', () => {
    const bad = ['role:a and', '(role:a', 'role:a)', 'or role:a', 'member', 'role:a role:b', "'quoted'"];
    for (const text of bad) {
      expect(() => parseRule('dragon:policy:get', text), text).toThrow(PolicyParseError);
      expect(() => parseRule('dragon:policy:get', text), text).toThrow(/dragon:policy:get/);
    }
    expect(() => enforcerOf({ broken: 'role:a or or role:b' })).toThrow(
      /"broken".*unexpected|"broken".*expected/,
    );
  });

  it('canonical form shows the grouping oslo gives', () => {
    expect(String(parseRule('r', 'role:a or role:b and not role:c'))).toBe(
      '(role:a or (role:b and not role:c))',
    );
  });
});

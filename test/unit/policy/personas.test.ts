/**
 * The default policy against the personas of docs/api-v1.md: a reader of the
 * project reads, a member also changes, an admin does everything anywhere,
 * and a member of another project gets nothing of this project.
 */
import { describe, expect, it } from 'vitest';
import { apiRules, dragonDefaults, Enforcer } from '../../../services/api/policy/index.js';
import { capturingLogger, context } from './helpers.js';

/** What each route rule is for, by the personas section of the API contract. */
const kind: Record<string, 'catalog' | 'read' | 'write' | 'admin'> = {
  'dragon:action:list': 'catalog',
  'dragon:action:get': 'catalog',
  'dragon:policy:list': 'read',
  'dragon:policy:get': 'read',
  'dragon:policy:resource:list': 'read',
  'dragon:policy:resource:get': 'read',
  'dragon:execution:list': 'read',
  'dragon:execution:get': 'read',
  'dragon:policy:create': 'write',
  'dragon:policy:update': 'write',
  'dragon:policy:delete': 'write',
  'dragon:policy:resource:add': 'write',
  'dragon:policy:resource:update': 'write',
  'dragon:policy:resource:remove': 'write',
  'dragon:policy:protect': 'write',
  'dragon:checkpoint:list': 'read',
  'dragon:checkpoint:get': 'read',
  'dragon:checkpoint:delete': 'write',
  'dragon:checkpoint:verify': 'write',
  'dragon:checkpoint:list_bank': 'read',
  'dragon:recovery:list': 'read',
  'dragon:recovery:get': 'read',
  'dragon:recovery:create': 'write',
  'dragon:recovery:cancel': 'write',
  'dragon:recovery:delete': 'write',
  'dragon:recovery:failback_policy': 'write',
  'dragon:execution:cancel': 'write',
  'dragon:site:list': 'read',
  'dragon:site:get': 'read',
  'dragon:protectable:list': 'read',
  'dragon:site:create': 'write',
  'dragon:site:delete': 'write',
  'dragon:service:list': 'admin',
  'dragon:healthcheck:detail': 'admin',
  'dragon:all_projects': 'admin',
};

const personas = {
  // Keystone usually lists implied roles in the token; the member persona is
  // also tried without them, since not every cloud defines the implication.
  'reader in p1': { ctx: context(['reader'], 'p1'), may: ['catalog', 'read'] },
  'member in p1': { ctx: context(['member', 'reader'], 'p1'), may: ['catalog', 'read', 'write'] },
  'member in p1 (no implied roles)': { ctx: context(['member'], 'p1'), may: ['catalog', 'read', 'write'] },
  'admin in p2': {
    ctx: context(['admin', 'member', 'reader'], 'p2'),
    may: ['catalog', 'read', 'write', 'admin'],
  },
  'admin in p2 (role name in capitals)': {
    ctx: context(['Admin'], 'p2'),
    may: ['catalog', 'read', 'write', 'admin'],
  },
  'member in p2': { ctx: context(['member', 'reader'], 'p2'), may: ['catalog'] },
  'reader in p2': { ctx: context(['reader'], 'p2'), may: ['catalog'] },
  'no role in p1': { ctx: context([], 'p1'), may: [] },
} as const;

describe('default policy by persona, target in project p1', () => {
  const enforcer = new Enforcer({ defaults: dragonDefaults, logger: capturingLogger().logger });
  const target = { project_id: 'p1' };

  it('classifies every route rule of the API', () => {
    expect(apiRules.map((r) => r.name).sort()).toEqual(Object.keys(kind).sort());
  });

  for (const [persona, { ctx, may }] of Object.entries(personas)) {
    for (const [ruleName, ruleKind] of Object.entries(kind)) {
      const expected = (may as readonly string[]).includes(ruleKind);
      it(`${persona}: ${ruleName} is ${expected ? 'allowed' : 'denied'}`, () => {
        expect(enforcer.enforce(ruleName, target, ctx)).toBe(expected);
      });
    }
  }

  it('every route rule documents its operations and intended scopes', () => {
    for (const r of apiRules) {
      expect(r.operations.length, r.name).toBeGreaterThan(0);
      expect(r.scopeTypes.length, r.name).toBeGreaterThan(0);
      expect(r.description, r.name).not.toBe('');
    }
  });
});

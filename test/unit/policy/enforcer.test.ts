import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  dragonDefaults,
  Enforcer,
  enforcerFromConfig,
  PolicyNotRegistered,
  resolvePolicyFile,
} from '../../../services/api/policy/index.js';
import { loadDragonConfig } from '../../../services/common/config/index.js';
import { DragonError } from '../../../services/common/errors.js';
import { capturingLogger, context, rule } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dragon-policy-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the file with a distinct mtime, so a change is seen even within one clock tick. */
function writePolicy(name: string, text: string, mtimeSeconds: number): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  utimesSync(path, mtimeSeconds, mtimeSeconds);
  return path;
}

const member = context(['member'], 'p1');
const reader = context(['reader'], 'p1');
const own = { project_id: 'p1' };

describe('policy file overrides', () => {
  it('a rule in policy.yaml replaces the default', () => {
    const path = writePolicy('policy.yaml', '"dragon:policy:delete": "role:admin"\n', 1000);
    const defaults = new Enforcer({ defaults: dragonDefaults, logger: capturingLogger().logger });
    const overridden = new Enforcer({
      defaults: dragonDefaults,
      policyFile: path,
      logger: capturingLogger().logger,
    });
    expect(defaults.enforce('dragon:policy:delete', own, member)).toBe(true);
    expect(overridden.enforce('dragon:policy:delete', own, member)).toBe(false);
    // Rules the file does not name keep their defaults.
    expect(overridden.enforce('dragon:policy:update', own, member)).toBe(true);
  });

  it('overriding a base rule changes every rule that refers to it', () => {
    const path = writePolicy(
      'policy.yaml',
      'project_reader: "role:auditor and project_id:%(project_id)s"\n',
      1000,
    );
    const enforcer = new Enforcer({
      defaults: dragonDefaults,
      policyFile: path,
      logger: capturingLogger().logger,
    });
    expect(enforcer.enforce('dragon:policy:get', own, reader)).toBe(false);
    expect(enforcer.enforce('dragon:execution:list', own, context(['auditor'], 'p1'))).toBe(true);
  });

  it('JSON policy files and the legacy list syntax are read too', () => {
    const path = writePolicy(
      'policy.json',
      JSON.stringify({
        'dragon:policy:get': [['role:auditor', 'project_id:%(project_id)s'], ['role:admin']],
      }),
      1000,
    );
    const enforcer = new Enforcer({
      defaults: dragonDefaults,
      policyFile: path,
      logger: capturingLogger().logger,
    });
    expect(enforcer.enforce('dragon:policy:get', own, context(['auditor'], 'p1'))).toBe(true);
    expect(enforcer.enforce('dragon:policy:get', { project_id: 'p2' }, context(['auditor'], 'p1'))).toBe(
      false,
    );
    expect(enforcer.enforce('dragon:policy:get', own, reader)).toBe(false);
  });

  it('the file is re-read when it changes, at most once per interval', () => {
    let now = 0;
    const path = writePolicy('policy.yaml', '"dragon:policy:delete": "role:admin"\n', 1000);
    const enforcer = new Enforcer({
      defaults: dragonDefaults,
      policyFile: path,
      reloadIntervalMs: 5000,
      now: () => now,
      logger: capturingLogger().logger,
    });
    expect(enforcer.enforce('dragon:policy:delete', own, member)).toBe(false);

    writePolicy('policy.yaml', '"dragon:policy:delete": "rule:project_member_or_admin"\n', 2000);
    now = 1000;
    expect(enforcer.enforce('dragon:policy:delete', own, member)).toBe(false); // not looked at yet
    now = 6000;
    expect(enforcer.enforce('dragon:policy:delete', own, member)).toBe(true);
  });

  it('a policy file created or removed while running takes effect', () => {
    const path = join(dir, 'policy.yaml');
    const enforcer = new Enforcer({
      defaults: dragonDefaults,
      policyFile: path,
      reloadIntervalMs: 0,
      logger: capturingLogger().logger,
    });
    expect(enforcer.enforce('dragon:policy:create', own, member)).toBe(true);
    writePolicy('policy.yaml', '"dragon:policy:create": "!"\n', 1000);
    expect(enforcer.enforce('dragon:policy:create', own, member)).toBe(false);
    rmSync(path);
    expect(enforcer.enforce('dragon:policy:create', own, member)).toBe(true);
  });

  it('a broken file at start-up is an error naming the rule', () => {
    const path = writePolicy('policy.yaml', '"dragon:policy:get": "role:reader and"\n', 1000);
    expect(() => new Enforcer({ defaults: dragonDefaults, policyFile: path })).toThrow(/dragon:policy:get/);
    const notAString = writePolicy('p2.yaml', '"dragon:policy:get": 42\n', 1000);
    expect(() => new Enforcer({ defaults: dragonDefaults, policyFile: notAString })).toThrow(
      /dragon:policy:get/,
    );
    const notYaml = writePolicy('p3.yaml', 'a: [\n', 1000);
    expect(() => new Enforcer({ defaults: dragonDefaults, policyFile: notYaml })).toThrow(/p3\.yaml/);
  });

  it('a file broken while running is logged and the last good rules stay', () => {
    const log = capturingLogger();
    const path = writePolicy('policy.yaml', '"dragon:policy:delete": "role:admin"\n', 1000);
    const enforcer = new Enforcer({
      defaults: dragonDefaults,
      policyFile: path,
      reloadIntervalMs: 0,
      logger: log.logger,
    });
    writePolicy('policy.yaml', '"dragon:policy:delete": "role:admin or"\n', 2000);
    expect(enforcer.enforce('dragon:policy:delete', own, member)).toBe(false);
    expect(log.lines.some((l) => l.level === 50 && String(l.err).includes('dragon:policy:delete'))).toBe(
      true,
    );
  });

  it('rules the code does not register are accepted with a warning and usable by reference', () => {
    const log = capturingLogger();
    const path = writePolicy(
      'policy.yaml',
      ['dr_operator: "role:dr_operator"', '"dragon:policy:protect": "rule:dr_operator"'].join('\n'),
      1000,
    );
    const enforcer = new Enforcer({ defaults: dragonDefaults, policyFile: path, logger: log.logger });
    expect(log.warnings().some((w) => w.includes('dr_operator'))).toBe(true);
    expect(enforcer.enforce('dragon:policy:protect', own, context(['dr_operator'], 'p2'))).toBe(true);
    expect(enforcer.enforce('dragon:policy:protect', own, member)).toBe(false);
  });
});

describe('authorize', () => {
  const enforcer = new Enforcer({ defaults: dragonDefaults, logger: capturingLogger().logger });

  it('throws 403 with the oslo message when the rule denies', () => {
    expect(() => enforcer.authorize('dragon:policy:get', own, reader)).not.toThrow();
    let err: unknown;
    try {
      enforcer.authorize('dragon:policy:delete', own, reader);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DragonError);
    expect((err as DragonError).code).toBe(403);
    expect((err as DragonError).message).toBe("Policy doesn't allow dragon:policy:delete to be performed.");
  });

  it('throws a programming error for a rule nobody registered', () => {
    expect(() => enforcer.authorize('dragon:policy:frobnicate', own, member)).toThrow(PolicyNotRegistered);
    expect(enforcer.enforce('dragon:policy:frobnicate', own, context(['admin'], 'p1'))).toBe(false);
  });
});

describe('scope', () => {
  const systemAdmin = context(['admin'], undefined, { systemScope: 'all' });
  const projectAdmin = context(['admin'], 'p1');

  it('with enforce_scope, a token of a scope the rule does not intend gets 403', () => {
    const enforcer = new Enforcer({
      defaults: dragonDefaults,
      enforceScope: true,
      logger: capturingLogger().logger,
    });
    expect(enforcer.enforce('dragon:policy:get', own, systemAdmin)).toBe(false);
    expect(() => enforcer.authorize('dragon:policy:get', own, systemAdmin)).toThrow(
      /dragon:policy:get requires a scope of project, request was made with system scope/,
    );
    expect(enforcer.enforce('dragon:service:list', {}, systemAdmin)).toBe(true);
    expect(enforcer.enforce('dragon:policy:get', own, projectAdmin)).toBe(true);
    // Scope is necessary, not sufficient: the check string still applies.
    expect(
      enforcer.enforce('dragon:service:list', {}, context(['reader'], undefined, { systemScope: 'all' })),
    ).toBe(false);
  });

  it('a domain-scoped token matches neither project nor system rules', () => {
    const enforcer = new Enforcer({
      defaults: dragonDefaults,
      enforceScope: true,
      logger: capturingLogger().logger,
    });
    expect(
      enforcer.enforce('dragon:action:list', {}, context(['admin'], undefined, { domainId: 'd1' })),
    ).toBe(false);
  });

  it('without enforce_scope, the mismatch is only warned about, once per rule', () => {
    const log = capturingLogger();
    const enforcer = new Enforcer({ defaults: dragonDefaults, logger: log.logger });
    expect(enforcer.enforce('dragon:policy:get', own, systemAdmin)).toBe(true);
    expect(enforcer.enforce('dragon:policy:get', own, systemAdmin)).toBe(true);
    expect(log.warnings().filter((w) => w.includes('dragon:policy:get failed scope check'))).toHaveLength(1);
  });
});

describe('deprecated rules', () => {
  const renamed = rule('dragon:checkpoint:list', 'role:reader and project_id:%(project_id)s', {
    scopeTypes: ['project'],
    deprecatedRule: {
      name: 'dragon:checkpoints:index',
      checkString: 'project_id:%(project_id)s',
      since: '1.0',
      reason: 'Readers only.',
    },
  });
  const anyRoleInProject = context(['creator'], 'p1');

  it('the old default still grants access only when enforce_new_defaults is false', () => {
    const strict = new Enforcer({ defaults: [renamed], logger: capturingLogger().logger });
    const lenient = new Enforcer({
      defaults: [renamed],
      enforceNewDefaults: false,
      logger: capturingLogger().logger,
    });
    expect(strict.enforce('dragon:checkpoint:list', own, anyRoleInProject)).toBe(false);
    expect(lenient.enforce('dragon:checkpoint:list', own, anyRoleInProject)).toBe(true);
  });

  it('an override of the old name applies to the new one', () => {
    const path = writePolicy('policy.yaml', '"dragon:checkpoints:index": "role:creator"\n', 1000);
    const enforcer = new Enforcer({
      defaults: [renamed],
      policyFile: path,
      logger: capturingLogger().logger,
    });
    expect(enforcer.enforce('dragon:checkpoint:list', { project_id: 'p9' }, anyRoleInProject)).toBe(true);
  });
});

describe('configuration', () => {
  it('[oslo_policy] options reach the enforcer; relative files are found next to dragon.conf', () => {
    writePolicy('custom.yaml', '"dragon:policy:create": "role:admin"\n', 1000);
    const confFile = join(dir, 'dragon.conf');
    writeFileSync(confFile, '[oslo_policy]\npolicy_file = custom.yaml\nenforce_scope = true\n');
    const conf = loadDragonConfig({ sources: { configFiles: [confFile], configDirs: [] }, env: {} });
    const enforcer = enforcerFromConfig(conf, dragonDefaults, { logger: capturingLogger().logger });
    expect(enforcer.enforceScope).toBe(true);
    expect(enforcer.enforceNewDefaults).toBe(true);
    expect(enforcer.enforce('dragon:policy:create', own, member)).toBe(false);
  });

  it('relative paths fall back to the working directory; absolute ones are kept', () => {
    expect(resolvePolicyFile('/x/policy.yaml', [join(dir, 'dragon.conf')])).toBe('/x/policy.yaml');
    expect(resolvePolicyFile('nowhere-policy.yaml', [join(dir, 'dragon.conf')], dir)).toBe(
      join(dir, 'nowhere-policy.yaml'),
    );
  });

  it('effective rules show the merged check strings', () => {
    const path = writePolicy('policy.yaml', '"dragon:policy:delete": "role:admin"\n', 1000);
    const enforcer = new Enforcer({
      defaults: dragonDefaults,
      policyFile: path,
      logger: capturingLogger().logger,
    });
    const rules = enforcer.effectiveRules();
    expect(rules['dragon:policy:delete']).toBe('role:admin');
    expect(rules.context_is_admin).toBe('role:admin');
  });
});

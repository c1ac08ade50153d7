import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dragonDefaults, Enforcer, renderPolicySample } from '../../../services/api/policy/index.js';
import { capturingLogger, context, rule } from './helpers.js';

const SAMPLE = fileURLToPath(new URL('../../../etc/dragon/policy.yaml.sample', import.meta.url));

describe('policy sample', () => {
  it('documents each rule oslopolicy-sample-generator style', () => {
    const text = renderPolicySample([
      rule('dragon:policy:get', 'rule:project_reader_or_admin', {
        description: 'Show a workload policy.',
        operations: [{ method: 'GET', path: '/v1/policies/{id}' }],
        scopeTypes: ['project', 'system'],
      }),
      rule('context_is_admin', 'role:admin', { description: 'Who is admin.' }),
    ]);
    expect(text).toBe(
      [
        '# Show a workload policy.',
        '# GET  /v1/policies/{id}',
        '# Intended scope(s): project, system',
        '#"dragon:policy:get": "rule:project_reader_or_admin"',
        '',
        '# Who is admin.',
        '#"context_is_admin": "role:admin"',
        '',
      ].join('\n'),
    );
  });

  it('uncommented, the sample is a policy file that behaves like the defaults', () => {
    const uncommented = renderPolicySample(dragonDefaults)
      .split('\n')
      .filter((l) => l.startsWith('#"'))
      .map((l) => l.slice(1))
      .join('\n');
    const rules = parseYaml(uncommented) as Record<string, string>;
    expect(Object.keys(rules)).toEqual(dragonDefaults.map((r) => r.name));
    const fromSample = new Enforcer({
      defaults: dragonDefaults.map((d) => ({ ...d, checkString: rules[d.name] })),
      logger: capturingLogger().logger,
    });
    const member = context(['member'], 'p1');
    expect(fromSample.enforce('dragon:policy:delete', { project_id: 'p1' }, member)).toBe(true);
    expect(fromSample.enforce('dragon:policy:delete', { project_id: 'p2' }, member)).toBe(false);
  });

  it('etc/dragon/policy.yaml.sample is up to date with the defaults in code', () => {
    const expected = renderPolicySample(dragonDefaults);
    const actual = existsSync(SAMPLE) ? readFileSync(SAMPLE, 'utf8') : '';
    expect(
      actual === expected,
      'etc/dragon/policy.yaml.sample is stale: run `dragon-manage policy sample -o etc/dragon/policy.yaml.sample` and commit the result',
    ).toBe(true);
  });
});

/**
 * The policy sample file, as oslopolicy-sample-generator writes it: every
 * registered rule commented out with its description, the API operations it
 * guards and its intended scopes. Deterministic, so a test can tell when the
 * committed etc/dragon/policy.yaml.sample is stale.
 */
import { writeFileSync } from 'node:fs';
import { wrapWords } from '../../common/text.js';
import { dragonDefaults } from './defaults.js';
import type { RuleDefault } from './types.js';

const entry = (name: string, check: string) => `${JSON.stringify(name)}: ${JSON.stringify(check)}`;

export function renderPolicySample(defaults: readonly RuleDefault[] = dragonDefaults): string {
  const out: string[] = [];
  for (const rule of defaults) {
    for (const line of wrapWords(rule.description, 70)) out.push(`# ${line}`);
    for (const op of rule.operations) out.push(`# ${op.method}  ${op.path}`);
    if (rule.scopeTypes.length > 0) out.push(`# Intended scope(s): ${rule.scopeTypes.join(', ')}`);
    out.push(`#${entry(rule.name, rule.checkString)}`);
    const old = rule.deprecatedRule;
    if (old) {
      out.push('', '# DEPRECATED');
      const note =
        `${entry(old.name, old.checkString)} has been deprecated since ${old.since} in favor of ` +
        `${entry(rule.name, rule.checkString)}. ${old.reason}`;
      for (const line of wrapWords(note, 70)) out.push(`# ${line}`);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Writes the sample (for `dragon-manage policy sample`). */
export function writePolicySample(path: string, defaults: readonly RuleDefault[] = dragonDefaults): void {
  writeFileSync(path, renderPolicySample(defaults));
}

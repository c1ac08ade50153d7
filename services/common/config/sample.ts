import { wrapWords } from '../text.js';
import { formatDefault } from './parse.js';
import type { OptGroup } from './types.js';

/** The commented sample file, oslo-config-generator style. Deterministic: same declarations, same bytes. */
export function renderSample(groups: readonly OptGroup[]): string {
  const out: string[] = [];
  for (const group of groups) {
    const section = group.templated ? `${group.name}:NAME` : group.name;
    out.push(`[${section}]`, '');
    for (const line of wrapWords(group.help, 76)) out.push(`# ${line}`.trimEnd());
    out.push('');
    for (const [name, def] of Object.entries(group.opts)) {
      out.push('#');
      for (const line of wrapWords(def.help, 76)) out.push(`# ${line}`);
      const typeLine = def.type === 'enum' ? `string, one of: ${def.choices?.join(', ')}` : def.type;
      const range =
        def.min !== undefined || def.max !== undefined
          ? ` (${def.min !== undefined ? `min ${def.min}` : ''}${def.min !== undefined && def.max !== undefined ? ', ' : ''}${def.max !== undefined ? `max ${def.max}` : ''})`
          : '';
      out.push(`# Type: ${typeLine}${range}${def.secret ? ' (secret)' : ''}`);
      out.push(`#${name} = ${formatDefault(def)}`.trimEnd());
      out.push('');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

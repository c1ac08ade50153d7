/**
 * Reads the operator's policy.yaml: a mapping from rule name to check string
 * (or the legacy list form). YAML is a superset of JSON, so policy.json files
 * work too. The watcher re-reads the file when its modification time or size
 * changes, looking at most once per interval so a busy API does not stat the
 * file on every request.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Check } from './checks.js';
import { parseListRule, parseRule } from './parser.js';

export class PolicyFileError extends Error {
  override name = 'PolicyFileError';
}

/** The rules of one policy file, parsed, plus their text for diagnostics. */
export interface PolicyFileRules {
  checks: Map<string, Check>;
  texts: Map<string, string>;
}

export function parsePolicyText(text: string, source: string): PolicyFileRules {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PolicyFileError(`${source}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  const checks = new Map<string, Check>();
  const texts = new Map<string, string>();
  if (doc === null || doc === undefined) return { checks, texts };
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new PolicyFileError(`${source}: expected a mapping of rule names to check strings`);
  for (const [name, value] of Object.entries(doc as Record<string, unknown>)) {
    try {
      if (typeof value === 'string') {
        checks.set(name, parseRule(name, value));
        texts.set(name, value);
      } else if (Array.isArray(value)) {
        checks.set(name, parseListRule(name, value));
        texts.set(name, JSON.stringify(value));
      } else {
        throw new PolicyFileError(
          `rule "${name}" must be a check string, not ${value === null ? 'null' : typeof value}`,
        );
      }
    } catch (err) {
      throw new PolicyFileError(`${source}: ${(err as Error).message}`);
    }
  }
  return { checks, texts };
}

export type PollResult =
  | { state: 'unchanged' }
  | { state: 'missing' }
  | { state: 'loaded'; rules: PolicyFileRules };

export class PolicyFileWatcher {
  #lastCheck = Number.NEGATIVE_INFINITY;
  #signature: string | undefined;

  constructor(
    readonly path: string,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Looks at the file if the interval has passed. `loaded` when it is new or
   * changed, `missing` when it has gone since the last look (or was never there
   * on the first one), `unchanged` otherwise. Throws PolicyFileError for a bad
   * file; the next poll after it changes again tries afresh.
   */
  poll(force = false): PollResult {
    const now = this.now();
    if (!force && now - this.#lastCheck < this.intervalMs) return { state: 'unchanged' };
    this.#lastCheck = now;
    let signature: string;
    try {
      const st = statSync(this.path);
      signature = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      if (this.#signature === '') return { state: 'unchanged' };
      this.#signature = '';
      return { state: 'missing' };
    }
    if (signature === this.#signature) return { state: 'unchanged' };
    this.#signature = signature;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      throw new PolicyFileError(`cannot read policy file ${this.path}: ${(err as Error).message}`);
    }
    return { state: 'loaded', rules: parsePolicyText(text, this.path) };
  }
}

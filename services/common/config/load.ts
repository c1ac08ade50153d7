import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseIni } from 'ini';
import { ConfigError, parseValue } from './parse.js';
import type { GroupValues, OptGroup, OptMap } from './types.js';

export const DEFAULT_CONFIG_FILE = '/etc/dragon/dragon.conf';
const ENV_PREFIX = 'DRAGON_';

export interface ConfigSources {
  configFiles: string[];
  configDirs: string[];
}

/** A section's raw values and where each came from (for error messages). */
type RawSection = Map<string, { raw: string; where: string }>;

export class Config {
  readonly #values = new Map<string, Map<string, unknown>>();

  constructor(
    readonly groups: readonly OptGroup[],
    raw: Map<string, RawSection>,
    readonly sources: ConfigSources,
  ) {
    for (const [section, entries] of raw) {
      const group = findGroup(groups, section);
      if (!group) {
        const first = entries.values().next().value;
        throw new ConfigError(`${first?.where ?? section}: unknown section [${section}]`);
      }
      const values = new Map<string, unknown>();
      for (const [name, { raw: value, where }] of entries) {
        const def = group.opts[name];
        if (!def) throw new ConfigError(`${where}: unknown option "${name}" in section [${section}]`);
        values.set(name, parseValue(def, value, where));
      }
      this.#values.set(section, values);
    }
  }

  /** The values of one group, defaults filled in. For a templated group, pass the instance (`site:backup`). */
  get<M extends OptMap>(group: OptGroup<M>, instance?: string): GroupValues<M> {
    const section = instance ? `${group.name}:${instance}` : group.name;
    const set = this.#values.get(section);
    const out: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(group.opts)) {
      out[name] = set?.has(name) ? set.get(name) : structuredClone(def.default);
    }
    return Object.freeze(out) as GroupValues<M>;
  }

  /** Instance names of a templated group found in the files, e.g. ['primary', 'backup'] for `[site:*]`. */
  instances(group: OptGroup): string[] {
    const prefix = `${group.name}:`;
    return [...this.#values.keys()].filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
  }

  /** Every set value, secrets replaced by '****': safe to log at start-up. */
  redacted(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [section, values] of this.#values) {
      const group = findGroup(this.groups, section);
      out[section] = {};
      for (const [name, value] of values) {
        out[section][name] = group?.opts[name]?.secret ? '****' : value;
      }
    }
    return out;
  }
}

function findGroup(groups: readonly OptGroup[], section: string): OptGroup | undefined {
  const base = section.includes(':') ? section.slice(0, section.indexOf(':')) : section;
  return groups.find((g) =>
    g.templated ? section.includes(':') && g.name === base : !section.includes(':') && g.name === section,
  );
}

/** Pulls `--config-file X` (repeatable) and `--config-dir D` out of argv; returns the rest untouched. */
export function parseConfigArgs(argv: readonly string[]): { sources: ConfigSources; rest: string[] } {
  const sources: ConfigSources = { configFiles: [], configDirs: [] };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    if (flag === '--config-file' || flag === '--config-dir') {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new ConfigError(`${flag} needs a path`);
      (flag === '--config-file' ? sources.configFiles : sources.configDirs).push(value);
    } else {
      rest.push(arg);
    }
  }
  return { sources, rest };
}

export interface LoadOptions {
  sources?: ConfigSources;
  env?: NodeJS.ProcessEnv;
  /** Used when no --config-file is given; tests pass null to ignore /etc. */
  defaultFile?: string | null;
}

/**
 * Builds the configuration, later sources winning: the files (in order, or the
 * default file), then the `*.conf` files of each config dir (sorted), then
 * `DRAGON_<SECTION>__<OPTION>` environment variables.
 */
export function loadConfig(groups: readonly OptGroup[], options: LoadOptions = {}): Config {
  const sources = options.sources ?? { configFiles: [], configDirs: [] };
  const env = options.env ?? process.env;
  const files = [...sources.configFiles];
  const defaultFile = options.defaultFile === undefined ? DEFAULT_CONFIG_FILE : options.defaultFile;
  if (files.length === 0 && defaultFile && existsSync(defaultFile)) files.push(defaultFile);
  for (const dir of sources.configDirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new ConfigError(`--config-dir ${dir}: not a directory`);
    for (const f of readdirSync(dir)
      .filter((n) => n.endsWith('.conf'))
      .sort())
      files.push(join(dir, f));
  }
  const raw = new Map<string, RawSection>();
  const put = (section: string, name: string, value: string, where: string) => {
    if (!raw.has(section)) raw.set(section, new Map());
    raw.get(section)!.set(name, { raw: value, where });
  };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    const parsed = parseIni(text) as Record<string, unknown>;
    for (const [section, body] of Object.entries(parsed)) {
      if (typeof body !== 'object' || body === null) {
        throw new ConfigError(`${file}: option "${section}" is outside any [section]`);
      }
      for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
        const where = `${file} [${section}] ${name}`;
        if (typeof value === 'object') throw new ConfigError(`${where}: sections cannot nest`);
        put(section, name, String(value), where);
      }
    }
  }
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || value === undefined) continue;
    const body = key.slice(ENV_PREFIX.length);
    const sep = body.indexOf('__');
    if (sep <= 0) continue;
    // Section names keep their case for templated instances (site:Backup); option names are lower case.
    const section = envSection(groups, body.slice(0, sep));
    if (!section) continue;
    put(section, body.slice(sep + 2).toLowerCase(), value, `environment ${key}`);
  }
  return new Config(groups, raw, { configFiles: files, configDirs: sources.configDirs });
}

/**
 * Maps the section part of an env variable to a section name: `DEFAULT`,
 * `API` -> `api`, `SITE_BACKUP` -> `site:backup` (the instance in lower case).
 * Variables naming no known group are ignored, since DRAGON_ may be used by others.
 */
function envSection(groups: readonly OptGroup[], part: string): string | undefined {
  if (part === 'DEFAULT') return 'DEFAULT';
  const lower = part.toLowerCase();
  if (groups.some((g) => !g.templated && g.name === lower)) return lower;
  for (const g of groups.filter((x) => x.templated)) {
    if (lower.startsWith(`${g.name}_`)) return `${g.name}:${lower.slice(g.name.length + 1)}`;
  }
  return undefined;
}

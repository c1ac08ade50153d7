/**
 * Finds and loads action plugins: every sub-folder of a `[plugins]
 * directories` entry that holds a `manifest.json`. A broken plugin (bad
 * manifest, invalid options schema, import that throws, missing hooks) is
 * skipped with one clear log line; it never stops the engine.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import type { Logger } from '../../common/log.js';
import type { ActionPlugin, PluginManifest, ResourceRequirement } from '../plugin-api.js';

export interface LoadedPlugin {
  manifest: PluginManifest;
  dir: string;
  impl: ActionPlugin;
}

export interface SkippedPlugin {
  dir: string;
  reason: string;
}

const HOOKS = ['protect', 'recover', 'delete', 'verify'] as const;
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const RESOURCE_TYPE = /^[A-Za-z0-9]+(::[A-Za-z0-9]+)+$/;

export function validateManifest(raw: unknown): PluginManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error('manifest is not a JSON object');
  const m = raw as Record<string, unknown>;
  const need = (key: string) => {
    if (typeof m[key] !== 'string' || m[key] === '')
      throw new Error(`manifest field "${key}" must be a non-empty string`);
    return m[key] as string;
  };
  const name = need('name');
  if (!NAME.test(name)) throw new Error(`manifest name "${name}" must be lower case letters, digits, . _ -`);
  const resourceType = need('resource_type');
  if (!RESOURCE_TYPE.test(resourceType)) {
    throw new Error(
      `manifest resource_type "${resourceType}" is not a Heat type name such as OS::Nova::Server`,
    );
  }
  const schema = m.options_schema ?? { type: 'object', additionalProperties: false, properties: {} };
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new Error('manifest options_schema must be a JSON schema object');
  }
  try {
    new Ajv({ strict: false }).compile(schema as object);
  } catch (err) {
    throw new Error(`manifest options_schema is not a valid JSON schema: ${(err as Error).message}`);
  }
  return {
    name,
    resource_type: resourceType,
    version: need('version'),
    description: typeof m.description === 'string' ? m.description : '',
    options_schema: schema as Record<string, unknown>,
    entry: need('entry'),
    ...(m.requires !== undefined ? { requires: validateRequirement(m.requires) } : {}),
  };
}

/** `requires`: a compilable JSON schema and a non-empty message. */
function validateRequirement(raw: unknown): ResourceRequirement {
  const r = raw as Partial<ResourceRequirement> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r))
    throw new Error('manifest requires must be an object with schema and message');
  if (typeof r.message !== 'string' || r.message === '')
    throw new Error('manifest requires.message must be a non-empty string');
  if (typeof r.schema !== 'object' || r.schema === null || Array.isArray(r.schema))
    throw new Error('manifest requires.schema must be a JSON schema object');
  try {
    new Ajv({ strict: false }).compile(r.schema);
  } catch (err) {
    throw new Error(`manifest requires.schema is not a valid JSON schema: ${(err as Error).message}`);
  }
  return { schema: r.schema, message: r.message };
}

/** True under tsx or vitest, which can import .ts modules. */
function runningTypeScript(): boolean {
  return /tsx|vitest/.test([...process.execArgv, process.argv[1] ?? '', process.env.VITEST ?? ''].join(' '));
}

async function loadOne(dir: string): Promise<LoadedPlugin> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch (err) {
    throw new Error(`cannot read manifest.json: ${(err as Error).message}`);
  }
  const manifest = validateManifest(raw);
  let entry = resolve(dir, manifest.entry);
  if (!entry.startsWith(resolve(dir)))
    throw new Error(`entry ${manifest.entry} points outside the plugin folder`);
  // Running from the TypeScript sources (tests, tsx): a shipped plugin's index.js is index.ts there.
  const source = entry.replace(/\.js$/, '.ts');
  if (!existsSync(entry) && source !== entry && existsSync(source) && runningTypeScript()) entry = source;
  if (!existsSync(entry)) throw new Error(`entry module ${manifest.entry} not found`);
  let mod: { default?: ActionPlugin } & ActionPlugin;
  try {
    mod = await import(pathToFileURL(entry).href);
  } catch (err) {
    throw new Error(`entry module failed to import: ${(err as Error).message}`);
  }
  const impl: ActionPlugin = mod.default ?? mod;
  if (!HOOKS.some((h) => typeof impl[h] === 'function')) {
    throw new Error(`entry module implements none of the hooks ${HOOKS.join(', ')}`);
  }
  return { manifest, dir, impl };
}

export async function loadPlugins(
  directories: readonly string[],
  log: Logger,
): Promise<{ plugins: Map<string, LoadedPlugin>; skipped: SkippedPlugin[] }> {
  const plugins = new Map<string, LoadedPlugin>();
  const skipped: SkippedPlugin[] = [];
  for (const base of directories) {
    const root = resolve(base);
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      log.warn({ directory: root }, 'plugin directory does not exist; skipped');
      continue;
    }
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'manifest.json'))) continue;
      try {
        const plugin = await loadOne(dir);
        if (plugins.has(plugin.manifest.name)) {
          throw new Error(
            `an action named ${plugin.manifest.name} is already loaded from ${plugins.get(plugin.manifest.name)!.dir}`,
          );
        }
        plugins.set(plugin.manifest.name, plugin);
        log.info(
          { plugin: plugin.manifest.name, resource_type: plugin.manifest.resource_type, dir },
          'loaded action plugin',
        );
      } catch (err) {
        const reason = (err as Error).message;
        skipped.push({ dir, reason });
        log.error({ dir, reason }, `skipped broken action plugin in ${dir}: ${reason}`);
      }
    }
  }
  return { plugins, skipped };
}

/** What the engine records in the services table and the API shows under /v1/actions. */
export function describePlugins(plugins: Map<string, LoadedPlugin>): PluginManifest[] {
  return [...plugins.values()].map((p) => ({ ...p.manifest }));
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CliIo } from './io.js';

/** One entry under `clouds:` in clouds.yaml, as openstacksdk reads it. */
export interface CloudEntry {
  auth_type?: string;
  auth?: Record<string, string | undefined>;
  region_name?: string;
  regions?: Array<string | { name: string }>;
  interface?: string;
  cacert?: string;
  verify?: boolean;
  [key: string]: unknown;
}

const SUFFIXES = ['.yaml', '.yml', '.json'];

/** The directories openstacksdk searches, in order: current directory, user config, system config. */
export function configDirs(io: Pick<CliIo, 'cwd' | 'home' | 'env'>): string[] {
  const userConfig = io.env.XDG_CONFIG_HOME || join(io.home, '.config');
  return [io.cwd, join(userConfig, 'openstack'), '/etc/openstack'];
}

/**
 * The first existing `<base>.yaml|yml|json` over the search path; like
 * openstacksdk the first file found wins and later ones are not merged.
 */
export function findConfigFile(base: 'clouds' | 'secure', io: Pick<CliIo, 'cwd' | 'home' | 'env'>) {
  const override = io.env[base === 'clouds' ? 'OS_CLIENT_CONFIG_FILE' : 'OS_CLIENT_SECURE_FILE'];
  if (override) return existsSync(override) ? override : undefined;
  for (const dir of configDirs(io)) {
    for (const suffix of SUFFIXES) {
      const path = join(dir, base + suffix);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

function readClouds(path: string | undefined): Record<string, CloudEntry> {
  if (!path) return {};
  const doc = parse(readFileSync(path, 'utf8')) as { clouds?: Record<string, CloudEntry> } | null;
  return doc?.clouds ?? {};
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/**
 * The named cloud from clouds.yaml with secure.yaml merged over it, so
 * passwords can live in a file that is not shared.
 */
export function loadCloud(name: string, io: Pick<CliIo, 'cwd' | 'home' | 'env'>): CloudEntry {
  const clouds = readClouds(findConfigFile('clouds', io));
  const secure = readClouds(findConfigFile('secure', io));
  if (!clouds[name] && !secure[name]) throw new Error(`Cloud ${name} was not found.`);
  return deepMerge(clouds[name] ?? {}, secure[name] ?? {}) as CloudEntry;
}

/** The region a cloud entry implies when none is asked for: region_name, else the first of regions. */
export function cloudRegion(cloud: CloudEntry): string | undefined {
  if (cloud.region_name) return cloud.region_name;
  const first = cloud.regions?.[0];
  return typeof first === 'string' ? first : first?.name;
}

/**
 * The configuration registry: every option group Dragon knows. The sample
 * file, unknown-option detection and env overrides all read this list, so a
 * new group is added here once.
 */
import { keystoneAuthtokenOpts } from '../../api/auth/opts.js';
import { corsOpts } from '../../api/opts.js';
import { policyOpts } from '../../api/policy/opts.js';
import { siteOpts, sitesOpts } from '../sites/opts.js';
import {
  apiOpts,
  cloudsimOpts,
  databaseOpts,
  defaultOpts,
  engineOpts,
  messagingOpts,
  pluginOpts,
} from './core-opts.js';
import { type Config, type LoadOptions, loadConfig } from './load.js';
import type { OptGroup } from './types.js';

export const allGroups: readonly OptGroup[] = [
  defaultOpts,
  apiOpts,
  databaseOpts,
  engineOpts,
  pluginOpts,
  messagingOpts,
  keystoneAuthtokenOpts,
  policyOpts,
  corsOpts,
  sitesOpts,
  siteOpts,
  cloudsimOpts,
];

export function loadDragonConfig(options: LoadOptions = {}): Config {
  return loadConfig(allGroups, options);
}

export { corsOpts } from '../../api/opts.js';
export * from './core-opts.js';
export { Config, type ConfigSources, loadConfig, parseConfigArgs } from './load.js';
export { ConfigError } from './parse.js';
export { renderSample } from './sample.js';
export * from './types.js';

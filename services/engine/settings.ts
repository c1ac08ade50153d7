import { fileURLToPath } from 'node:url';
import { type Config, defaultOpts, engineOpts, pluginOpts } from '../common/config/index.js';
import { VERSION } from '../common/version.js';

/** plugins/ beside services/ — in the sources, and in dist/ after the build copied the manifests. */
export const SHIPPED_PLUGIN_DIR = fileURLToPath(new URL('../../plugins', import.meta.url));

import type { EngineSettings } from './service.js';

export function engineSettingsFrom(conf: Config): EngineSettings {
  const e = conf.get(engineOpts);
  return {
    host: conf.get(defaultOpts).host,
    maxParallelSteps: e.max_parallel_steps,
    heartbeatIntervalMs: e.heartbeat_interval * 1000,
    takeoverAfterS: e.takeover_after,
    sweepIntervalMs: e.sweep_interval * 1000,
    maxExecutions: e.max_executions,
    stepRetries: e.step_retries,
    retryBackoffMs: e.retry_backoff * 1000,
    pluginDirectories: [
      ...(conf.get(pluginOpts).load_shipped ? [SHIPPED_PLUGIN_DIR] : []),
      ...conf.get(pluginOpts).directories,
    ],
    version: VERSION,
  };
}

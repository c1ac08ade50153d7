/**
 * An engine as the services run it: the generic machinery plus the
 * protection kinds and their built-in steps, and the scheduler. One place,
 * so dragon-engine, npm start and the end-to-end tests run the same thing.
 */
import type { Knex } from 'knex';
import { type Config, engineOpts } from '../common/config/index.js';
import { getLogger } from '../common/log.js';
import type { Transport } from '../common/rpc/types.js';
import { protectionKinds } from './protect/kinds.js';
import { recoveryKinds } from './recover/kinds.js';
import { Scheduler } from './scheduler.js';
import { Engine, type EngineSettings } from './service.js';
import { engineSettingsFrom } from './settings.js';

export interface AssembledEngine {
  engine: Engine;
  scheduler: Scheduler;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function assembleEngine(
  conf: Config,
  db: Knex,
  transport: Transport,
  overrides: Partial<EngineSettings> = {},
): AssembledEngine {
  const protection = protectionKinds({
    conf,
    db,
    transport,
    host: overrides.host ?? engineSettingsFrom(conf).host,
  });
  // The plan step asks the loaded plugins for their recover plans: known once the engine has started.
  const settings = { ...engineSettingsFrom(conf), ...overrides };
  const recovery = recoveryKinds({
    conf,
    db,
    plugins: () => engine.plugins,
    planConcurrency: settings.maxParallelSteps,
  });
  const engine = new Engine(db, transport, settings, { ...protection.kinds, ...recovery.kinds }, [
    ...protection.builtins,
    ...recovery.builtins,
  ]);
  const scheduler = new Scheduler(
    db,
    transport,
    getLogger('dragon-engine.scheduler'),
    conf.get(engineOpts).schedule_interval * 1000,
  );
  return {
    engine,
    scheduler,
    async start() {
      await engine.start();
      scheduler.start();
    },
    async stop() {
      await scheduler.stop();
      await engine.stop();
    },
  };
}

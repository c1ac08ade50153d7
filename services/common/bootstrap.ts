/**
 * What every Dragon process does first: read the configuration (files,
 * config dirs, environment), set up logging, open the database and refuse
 * to run on a schema that is behind, connect the message bus.
 */
import type { Knex } from 'knex';
import {
  type Config,
  ConfigError,
  databaseOpts,
  defaultOpts,
  loadDragonConfig,
  messagingOpts,
  parseConfigArgs,
} from './config/index.js';
import { openDatabase } from './db/connection.js';
import { requireCurrentSchema, SchemaBehindError } from './db/migrate.js';
import { configureLogging, getLogger, type Logger } from './log.js';
import { createTransport, type InProcessTransport, type Transport } from './rpc/index.js';

export interface Bootstrapped {
  conf: Config;
  log: Logger;
  rest: string[];
}

/** Parses `--config-file/--config-dir`, loads the config and sets up logging; exits with a clear message on a bad config. */
export function bootstrapConfig(service: string, argv: string[] = process.argv.slice(2)): Bootstrapped {
  try {
    const { sources, rest } = parseConfigArgs(argv);
    const conf = loadDragonConfig({ sources });
    const d = conf.get(defaultOpts);
    configureLogging({ debug: d.debug, format: d.log_format });
    const log = getLogger(service);
    log.info({ config_files: conf.sources.configFiles, config: conf.redacted() }, `${service} starting`);
    return { conf, log, rest };
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

export function databaseFrom(conf: Config): Knex {
  const db = conf.get(databaseOpts);
  return openDatabase({
    connection: db.connection,
    statePath: conf.get(defaultOpts).state_path,
    maxPoolSize: db.max_pool_size,
  });
}

/** Opens the database and checks the schema; exits with the command to run when it is behind. */
export async function openCheckedDatabase(conf: Config, service: string): Promise<Knex> {
  const db = databaseFrom(conf);
  try {
    await requireCurrentSchema(db);
  } catch (err) {
    if (err instanceof SchemaBehindError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      await db.destroy();
      process.exit(3);
    }
    throw err;
  }
  return db;
}

export async function transportFrom(conf: Config, shared?: InProcessTransport): Promise<Transport> {
  const m = conf.get(messagingOpts);
  return createTransport(
    {
      transportUrl: conf.get(defaultOpts).transport_url,
      prefetch: m.prefetch_count,
      reconnectMaxDelaySeconds: m.reconnect_max_delay,
    },
    shared,
  );
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop()
      .catch((err) => log.error({ err: (err as Error).message }, 'error while shutting down'))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

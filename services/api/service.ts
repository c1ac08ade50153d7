/**
 * The dragon-api process: builds the API's dependencies from the
 * configuration (Keystone auth, policy enforcer, database, transport),
 * listens, and heartbeats its row in the services table.
 */
import type { Knex } from 'knex';
import { apiOpts, type Config, defaultOpts, engineOpts } from '../common/config/index.js';
import { getLogger } from '../common/log.js';
import type { Transport } from '../common/rpc/types.js';
import { recordService } from '../common/services-table.js';
import { VERSION } from '../common/version.js';
import { type AuthMiddleware, createAuthMiddlewareFromConfig } from './auth/index.js';
import { enforcerFromConfig } from './policy/index.js';
import { type ApiServer, startApiServer } from './server.js';

export interface RunningApi extends ApiServer {
  stop(): Promise<void>;
}

export async function runApi(
  conf: Config,
  db: Knex,
  transport: Transport,
  options: { listen?: { host: string; port: number }; authenticate?: AuthMiddleware } = {},
): Promise<RunningApi> {
  const log = getLogger('dragon-api');
  const listen = options.listen ?? { host: conf.get(apiOpts).bind_host, port: conf.get(apiOpts).bind_port };
  const authenticate: AuthMiddleware = options.authenticate ?? createAuthMiddlewareFromConfig(conf, log);
  const enforcer = enforcerFromConfig(conf);
  const server = await startApiServer(
    { conf, db, transport, authenticate, enforcer, version: VERSION },
    listen,
  );
  const host = conf.get(defaultOpts).host;
  const beat = () =>
    recordService(db, { host, binary: 'dragon-api', version: VERSION }).catch((err) =>
      log.warn({ err: (err as Error).message }, 'service heartbeat failed'),
    );
  await beat();
  const timer = setInterval(beat, conf.get(engineOpts).heartbeat_interval * 1000);
  timer.unref();
  log.info({ url: server.url }, `dragon-api listening on ${server.url}`);
  return {
    ...server,
    async stop() {
      clearInterval(timer);
      await server.close();
      await authenticate.close?.();
    },
  };
}

/** dragon-api: the REST API. `[api] workers` > 1 forks that many listeners sharing the port. */
import cluster from 'node:cluster';
import { bootstrapConfig, onShutdown, openCheckedDatabase, transportFrom } from '../common/bootstrap.js';
import { apiOpts, databaseOpts, defaultOpts } from '../common/config/index.js';
import { runApi } from './service.js';

const { conf, log } = bootstrapConfig('dragon-api');
const workers = conf.get(apiOpts).workers;

if (workers > 1 && !conf.get(databaseOpts).connection) {
  process.stderr.write(
    'dragon-api: [api] workers > 1 needs a PostgreSQL server; the embedded database is single-process\n',
  );
  process.exit(2);
}
if (!conf.get(defaultOpts).transport_url) {
  log.warn(
    'transport_url is empty: no engine outside this process hears this API; engines only find work by sweeping',
  );
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    log.error({ pid: worker.process.pid, code, signal }, 'API worker exited; starting another');
    cluster.fork();
  });
  onShutdown(log, async () => {
    cluster.removeAllListeners('exit');
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
  });
} else {
  const db = await openCheckedDatabase(conf, 'dragon-api');
  const transport = await transportFrom(conf);
  const api = await runApi(conf, db, transport);
  onShutdown(log, async () => {
    await api.stop();
    await transport.close();
    await db.destroy();
  });
}

/**
 * `npm start`: Dragon in one process on its embedded defaults — dragon-api
 * and one dragon-engine sharing the in-process bus and the embedded
 * PostgreSQL (PGlite) under state_path. When no Keystone is configured it
 * also starts the built-in two-site cloud simulator, points Dragon's auth at
 * the simulated Keystone and writes a clouds.yaml for the CLI.
 */
import { join, resolve } from 'node:path';
import { keystoneAuthtokenOpts } from '../api/auth/opts.js';
import { runApi } from '../api/service.js';
import { startCloud } from '../cloudsim/cloud.js';
import { writeQuickstartCloudsYaml, writeQuickstartConfig } from '../cloudsim/quickstart-clouds.js';
import { allServices } from '../cloudsim/services.js';
import { bootstrapConfig, databaseFrom, onShutdown, transportFrom } from '../common/bootstrap.js';
import { cloudsimOpts, databaseOpts, defaultOpts, loadDragonConfig } from '../common/config/index.js';
import { requireCurrentSchema, syncSchema } from '../common/db/migrate.js';
import { assembleEngine } from '../engine/assemble.js';

const boot = bootstrapConfig('dragon');
const log = boot.log;
let conf = boot.conf;
const statePath = resolve(conf.get(defaultOpts).state_path);

const db = databaseFrom(conf);
if (!conf.get(databaseOpts).connection) {
  // The embedded database belongs to this process alone: bring its schema up to date.
  const applied = await syncSchema(db);
  if (applied.length) log.info({ applied }, 'embedded database schema updated');
} else {
  await requireCurrentSchema(db);
}
const transport = await transportFrom(conf);

let cloud: Awaited<ReturnType<typeof startCloud>> | undefined;
let cloudsYaml: string | undefined;
if (conf.get(defaultOpts).auth_strategy === 'keystone' && !conf.get(keystoneAuthtokenOpts).auth_url) {
  const sim = conf.get(cloudsimOpts);
  const dataDir = resolve(sim.data_dir || join(statePath, 'cloudsim'));
  cloud = await startCloud({
    dataDir,
    services: allServices,
    keystonePort: sim.keystone_port,
    persistIdentity: true,
  });
  // Dragon is configured against the simulator like against any cloud: a generated config file,
  // read after the operator's own, so the sites and Keystone settings below are the real code paths.
  const generated = join(statePath, 'quickstart.conf');
  writeQuickstartConfig(generated, cloud, statePath);
  conf = loadDragonConfig({
    sources: { configFiles: [...conf.sources.configFiles, generated], configDirs: conf.sources.configDirs },
  });
  cloudsYaml = join(statePath, 'clouds.yaml');
  writeQuickstartCloudsYaml(cloudsYaml, cloud);
}

const engine = assembleEngine(conf, db, transport);
await engine.start();
const api = await runApi(conf, db, transport);
if (cloud) {
  // Dragon is found through the catalog like any OpenStack service, in every region.
  for (const region of Object.keys(cloud.sites)) {
    cloud.keystone.store.registerService('disaster-recovery', 'dragon', `${api.url}/v1`, region);
  }
}

const lines = [
  '',
  `Dragon API listening on ${api.url}/v1`,
  `  state: ${statePath} (embedded PostgreSQL${conf.get(databaseOpts).connection ? ': no, external' : ''}, in-process bus${conf.get(defaultOpts).transport_url ? ': no, RabbitMQ' : ''})`,
];
if (cloud && cloudsYaml) {
  lines.push(
    `  cloud simulator: Keystone at ${cloud.keystone.url}/v3, regions ${Object.keys(cloud.sites).join(', ')}`,
    `  clouds.yaml for the CLI: ${cloudsYaml}`,
    '',
    'Try:',
    `  export OS_CLIENT_CONFIG_FILE=${cloudsYaml} OS_CLOUD=sim-primary`,
    '  npx dragon policy create web-shop --description "my first workload"',
    '  npx dragon policy list',
    '  npx dragon action list',
  );
}
process.stdout.write(`${lines.join('\n')}\n\n`);

onShutdown(log, async () => {
  await api.stop();
  await engine.stop();
  await cloud?.close();
  await transport.close();
  await db.destroy();
});

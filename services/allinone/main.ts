/**
 * `npm start`: Dragon in one process on its embedded defaults — dragon-api
 * and one dragon-engine sharing the in-process bus and the embedded
 * PostgreSQL (PGlite) under state_path. When no Keystone is configured it
 * also starts the built-in two-site cloud simulator, points Dragon's auth at
 * the simulated Keystone and writes a clouds.yaml for the CLI, starts the
 * simulator's fault endpoint (recorded in state_path/cloudsim.json for
 * `dragon-cloudsim site off|on`), and on the first start creates the demo
 * workload at the primary site (demo-workload.ts).
 */
import { join, resolve } from 'node:path';
import { keystoneAuthtokenOpts } from '../api/auth/opts.js';
import { runApi } from '../api/service.js';
import { type RunningAdminApi, startAdminApi } from '../cloudsim/admin-api.js';
import { startCloud } from '../cloudsim/cloud.js';
import { writeQuickstartCloudsYaml, writeQuickstartConfig } from '../cloudsim/quickstart-clouds.js';
import { writeSimulatorState } from '../cloudsim/quickstart-state.js';
import { allServices } from '../cloudsim/services.js';
import { bootstrapConfig, databaseFrom, onShutdown, transportFrom } from '../common/bootstrap.js';
import { cloudsimOpts, databaseOpts, defaultOpts, loadDragonConfig } from '../common/config/index.js';
import { requireCurrentSchema, syncSchema } from '../common/db/migrate.js';
import { assembleEngine } from '../engine/assemble.js';
import { type DemoWorkload, ensureDemoWorkload } from './demo-workload.js';

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
let faultApi: RunningAdminApi | undefined;
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
  log.info({ clouds_yaml: cloudsYaml }, 'clouds.yaml for the CLI written');
  // The fault endpoint, on its own port so it answers while a site is off.
  faultApi = await startAdminApi({
    faults: cloud.faults,
    tokens: [cloud.keystone.provider],
    port: sim.admin_port,
  });
}

const engine = assembleEngine(conf, db, transport);
await engine.start();
const api = await runApi(conf, db, transport);
let demo: DemoWorkload | undefined;
if (cloud && cloudsYaml && faultApi) {
  // Dragon is found through the catalog like any OpenStack service, in every region.
  for (const region of Object.keys(cloud.sites)) {
    cloud.keystone.store.registerService('disaster-recovery', 'dragon', `${api.url}/v1`, region);
  }
  const stateFile = writeSimulatorState(statePath, {
    faults_url: `${faultApi.url}/sim/faults`,
    keystone_url: `${cloud.keystone.url}/v3`,
    clouds_yaml: cloudsYaml,
    regions: Object.keys(cloud.sites),
    dragon_url: `${api.url}/v1`,
  });
  log.info(
    { faults_url: `${faultApi.url}/sim/faults`, state_file: stateFile },
    'cloud simulator fault endpoint',
  );
  if (conf.get(cloudsimOpts).demo_workload) {
    const primary = Object.keys(cloud.sites)[0];
    const started = Date.now();
    try {
      const made = await ensureDemoWorkload(cloud, primary, statePath);
      demo = made.workload;
      if (made.created)
        log.info(
          { region: primary, ms: Date.now() - started, servers: demo?.servers },
          'demo workload created',
        );
    } catch (err) {
      // Dragon itself works without it: say so and go on.
      log.error({ err, region: primary }, 'could not create the demo workload');
    }
  }
}

const lines = [
  '',
  `Dragon API listening on ${api.url}/v1`,
  `  state: ${statePath} (embedded PostgreSQL${conf.get(databaseOpts).connection ? ': no, external' : ''}, in-process bus${conf.get(defaultOpts).transport_url ? ': no, RabbitMQ' : ''})`,
];
if (cloud && cloudsYaml && faultApi) {
  const [primary, backup] = Object.keys(cloud.sites);
  lines.push(
    `  cloud simulator: Keystone at ${cloud.keystone.url}/v3, regions ${Object.keys(cloud.sites).join(', ')} (primary site ${primary}, backup site ${backup})`,
    `  clouds.yaml for the CLI: ${cloudsYaml}`,
    `  fault endpoint: ${faultApi.url}/sim/faults (dragon-cloudsim site off|on <region>)`,
  );
  if (demo)
    lines.push(
      `  demo workload at ${primary}: servers shop-web (floating IP ${demo.floating_ip}), shop-app, shop-db; volumes shop-data, shop-db`,
    );
  lines.push(
    '',
    'Next (the walkthrough is docs/quickstart.md):',
    `  export OS_CLIENT_CONFIG_FILE=${cloudsYaml} OS_CLOUD=sim-primary`,
    '  openstack server list',
    `  npx dragon protectable list --site ${primary}`,
    `  npx dragon policy create web-shop --backup-site ${backup}`,
    ...Object.entries(demo?.servers ?? { app: '<server id>' }).map(
      ([tier, id]) =>
        `  npx dragon policy resource add web-shop --type OS::Nova::Server --action image-copy --with-dependencies --resource-id ${id}   # shop-${tier}`,
    ),
    '  npx dragon policy protect web-shop --wait',
    `  npx dragon-cloudsim site off ${primary}   # the disaster`,
    `  OS_CLOUD=sim-backup npx dragon checkpoint list --source bank --site ${backup}`,
    `  OS_CLOUD=sim-backup npx dragon recovery create <checkpoint id> --site ${backup} --stack-name web-shop --wait`,
    '  openstack --os-cloud sim-backup server list',
  );
}
process.stdout.write(`${lines.join('\n')}\n\n`);

onShutdown(log, async () => {
  await api.stop();
  await engine.stop();
  await faultApi?.close();
  await cloud?.close();
  await transport.close();
  await db.destroy();
});

/** dragon-engine: runs executions; scale out by starting more of them. */
import { bootstrapConfig, onShutdown, openCheckedDatabase, transportFrom } from '../common/bootstrap.js';
import { defaultOpts } from '../common/config/index.js';
import { assembleEngine } from './assemble.js';

const { conf, log } = bootstrapConfig('dragon-engine');
if (!conf.get(defaultOpts).transport_url) {
  log.warn(
    'transport_url is empty: the in-process bus reaches no API outside this process; only sweeps find work',
  );
}
const db = await openCheckedDatabase(conf, 'dragon-engine');
const transport = await transportFrom(conf);
const engine = assembleEngine(conf, db, transport);
await engine.start();
onShutdown(log, async () => {
  await engine.stop();
  await transport.close();
  await db.destroy();
});

/**
 * An engine process with the generic machinery only (claims, heartbeats,
 * step graph, retries, takeover, sweeps) and no execution kinds: what the
 * crash and bus-outage tests exercise with the sleeper test plugin, without
 * any kind's hooks (which would need a policy, a checkpoint or a recovery).
 * Started like dragon-engine, with the same configuration.
 */
import {
  bootstrapConfig,
  onShutdown,
  openCheckedDatabase,
  transportFrom,
} from '../../services/common/bootstrap.js';
import { Engine } from '../../services/engine/service.js';
import { engineSettingsFrom } from '../../services/engine/settings.js';

const { conf, log } = bootstrapConfig('dragon-engine');
const db = await openCheckedDatabase(conf, 'dragon-engine');
const transport = await transportFrom(conf);
const engine = new Engine(db, transport, engineSettingsFrom(conf), {}, []);
await engine.start();
onShutdown(log, async () => {
  await engine.stop();
  await transport.close();
  await db.destroy();
});

/**
 * The worker side of `startCloudInWorker`: runs the simulated two-site cloud
 * on this thread's event loop and answers the parent's fault and close
 * messages. Started only by test/support/cloud-worker.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startCloud } from '../../services/cloudsim/cloud.js';
import { allServices } from '../../services/cloudsim/services.js';
import type { ServiceFault } from '../../services/cloudsim/site-faults.js';

type Request =
  | { id: number; type: 'fault'; region: string; service: string; fault?: ServiceFault }
  | { id: number; type: 'close' };

const port = parentPort!;
const cloud = await startCloud({
  services: allServices,
  dataDir: (workerData as { dataDir: string }).dataDir,
});
port.postMessage({
  type: 'ready',
  info: {
    keystone: { url: cloud.keystone.url, keyDir: cloud.keystone.keyDir },
    regions: Object.keys(cloud.sites),
    demo: cloud.demo,
    admin: cloud.admin,
    adminProjectId: cloud.keystone.store.findProject({ name: cloud.admin.projectName })?.id ?? '',
  },
});
port.on('message', async (m: Request) => {
  try {
    if (m.type === 'fault') cloud.faults[m.region]!.set(m.service, m.fault);
    if (m.type === 'close') await cloud.close();
    port.postMessage({ type: 'done', id: m.id });
    if (m.type === 'close') port.close();
  } catch (err) {
    port.postMessage({ type: 'done', id: m.id, error: (err as Error).message });
  }
});

/**
 * The simulated two-site cloud on a worker thread of its own, for the
 * benchmarks: a real cloud does not share Dragon's CPU, and with the
 * simulator on Dragon's event loop a parallel run measured the simulator's
 * queue as much as Dragon. The parent gets what it needs to talk to the
 * cloud over HTTP (Keystone, regions, the demo and admin identities) and a
 * way to inject faults; everything else goes through the APIs.
 */
import { Worker } from 'node:worker_threads';
import type { DemoIdentity } from '../../services/cloudsim/cloud.js';
import type { ServiceFault } from '../../services/cloudsim/site-faults.js';
import type { SimCloudInfo } from './site-clients.js';

export interface WorkerCloud extends SimCloudInfo {
  keystone: { url: string; keyDir: string };
  /** Region name → present (the shape writeQuickstartConfig reads). */
  sites: Record<string, unknown>;
  demo: DemoIdentity;
  /** Sets (or, with undefined, clears) a fault of one service type at one region. */
  setFault(region: string, service: string, fault?: ServiceFault): Promise<void>;
  close(): Promise<void>;
}

interface ReadyInfo {
  keystone: { url: string; keyDir: string };
  regions: string[];
  demo: DemoIdentity;
  admin: { userName: string; password: string; projectName: string };
  adminProjectId: string;
}

export async function startCloudInWorker(opts: { dataDir: string }): Promise<WorkerCloud> {
  const entry = new URL('./cloud-worker-main.ts', import.meta.url).href;
  // The worker registers tsx itself: workers do not inherit the parent's module hooks.
  const worker = new Worker(
    `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`,
    { eval: true, workerData: { dataDir: opts.dataDir } },
  );
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const info = await new Promise<ReadyInfo>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: { type: string; info?: ReadyInfo; id?: number; error?: string }) => {
      if (m.type === 'ready') resolve(m.info!);
      if (m.type === 'done') {
        const w = waiting.get(m.id!);
        waiting.delete(m.id!);
        if (m.error) w?.reject(new Error(m.error));
        else w?.resolve();
      }
    });
  });
  const ask = (msg: Record<string, unknown>) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id });
    });
  return {
    keystone: info.keystone,
    sites: Object.fromEntries(info.regions.map((r) => [r, true])),
    demo: info.demo,
    admin: info.admin,
    adminProjectId: info.adminProjectId,
    setFault: (region, service, fault) => ask({ type: 'fault', region, service, fault }),
    async close() {
      await ask({ type: 'close' });
      await worker.terminate();
    },
  };
}

/**
 * Every simulated service the `dragon-cloudsim` command and the quickstart
 * start in each region. A new simulated service adds its factory here.
 * Order matters only for readability: services find their siblings lazily.
 */

import { computeServices } from './services-compute.js';
import { heatServices } from './services-heat.js';
import { storageServices } from './services-storage.js';
import type { ServiceFactory } from './site.js';
import { swiftService } from './swift.js';

export const allServices: ServiceFactory[] = [
  swiftService,
  ...storageServices,
  ...computeServices,
  ...heatServices,
];

/**
 * Every simulated service the `dragon-cloudsim` command and the quickstart
 * start in each region. A new simulated service adds its factory here.
 */
import type { ServiceFactory } from './site.js';
import { swiftService } from './swift.js';

export const allServices: ServiceFactory[] = [swiftService];

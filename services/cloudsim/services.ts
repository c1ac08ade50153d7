/** Every simulated service the cloud simulator starts in each region. */
import type { ServiceFactory } from './site.js';

export const allServices: ServiceFactory[] = [];

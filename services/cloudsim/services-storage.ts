/**
 * The storage services of a simulated site, for the lead's service registry.
 * Cinder needs the site's `object-store` service at run time (backups).
 */
import { cinderService } from './cinder.js';
import { glanceService } from './glance.js';
import type { ServiceFactory } from './site.js';

export const storageServices: ServiceFactory[] = [glanceService, cinderService];

/** Heat's registration in the simulated cloud. */
import { heatService } from './heat/service.js';

export const heatServices = [heatService];

/** The compute side of a simulated site: Neutron and Nova (the lead wires these into the registry). */
import { neutronService } from './neutron.js';
import { novaService } from './nova.js';

export const computeServices = [neutronService, novaService];

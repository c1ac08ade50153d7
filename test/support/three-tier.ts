/**
 * The three-tier workload of issue 6 for tests; the builder itself lives in
 * services/allinone/three-tier.ts because the quickstart creates the same
 * workload for its demo user.
 */
export { buildThreeTier, type ThreeTier, type ThreeTierOptions } from '../../services/allinone/three-tier.js';

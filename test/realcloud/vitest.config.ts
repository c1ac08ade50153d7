import { defineConfig } from 'vitest/config';

/**
 * `npm run test:realcloud`: the suites that run against test/realcloud/minicloud (real
 * OpenStack Zed from Debian's packages) — the clients' contract file (test/contract, which
 * `npm test` runs against the simulator) with DRAGON_CLOUD_TARGET=real, and the real-cloud
 * suites here. The global setup fails the run, with the reason, when the mini cloud is not up.
 */
export default defineConfig({
  test: {
    include: ['test/contract/**/*.test.ts', 'test/realcloud/**/*.test.ts'],
    globalSetup: ['test/realcloud/global-setup.ts'],
    env: { DRAGON_CLOUD_TARGET: 'real' },
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 120_000,
    reporters: ['default', ['json', { outputFile: 'test-results/realcloud.json' }]],
  },
});

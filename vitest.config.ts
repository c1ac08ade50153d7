import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The real PostgreSQL and RabbitMQ servers take a few seconds to start, so
 * they are started only when the run may include an integration test: always
 * for a plain `vitest run` / `npm test`, not for `vitest run test/unit/api`.
 * Extra words on the command line can only add matches, so a mistake here
 * starts the servers rather than leaving an integration test without them.
 */
function mayRunIntegrationTests(): boolean {
  const words = process.argv
    .slice(2)
    .filter((a) => !a.startsWith('-') && !['run', 'watch', 'dev', 'related'].includes(a));
  if (words.length === 0) return true;
  const dir = resolve('test/integration');
  let files: string[] = [];
  try {
    files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => join(dir, f));
  } catch {
    return false;
  }
  return files.some((abs) => {
    const rel = relative(process.cwd(), abs);
    return words.some((w) => abs.includes(w) || rel.includes(w) || abs.startsWith(resolve(w)));
  });
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real-cloud suites need test/realcloud/minicloud: `npm run test:realcloud`.
    exclude: [...configDefaults.exclude, 'test/realcloud/**'],
    globalSetup: mayRunIntegrationTests() ? ['test/support/global-setup.ts'] : [],
    pool: 'forks',
    // Two cores: two test files at a time, beside PostgreSQL and RabbitMQ.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});

#!/usr/bin/env node
/**
 * `npm test`: lint, typecheck, then every vitest suite (unit and integration,
 * against real PostgreSQL and RabbitMQ started by test/support/global-setup.ts).
 * Extra arguments go to vitest (`npm test -- test/unit/api`).
 *
 * The last line printed is always `tests: N passed, N failed, N skipped`:
 * CI reads it. Lint and typecheck failures each count as one failed test, so
 * that line never looks green when the code does not build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = join(root, 'test-results', 'vitest.json');
const problems = [];

function step(title, args) {
  process.stdout.write(`\n== ${title}: npx ${args.join(' ')}\n`);
  const started = Date.now();
  // --no: never download a tool; they all come from devDependencies (npm ci).
  const result = spawnSync('npx', ['--no', '--', ...args], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  process.stdout.write(
    `== ${title}: ${ok ? 'ok' : `FAILED (exit ${result.status ?? result.signal})`} in ${seconds} s\n`,
  );
  return ok;
}

if (!step('lint', ['biome', 'check', '.'])) problems.push('lint (biome check) failed');
if (!step('typecheck', ['tsc', '--noEmit', '-p', 'tsconfig.json'])) problems.push('typecheck (tsc) failed');

rmSync(resultsFile, { force: true });
const vitestOk = step('tests', ['vitest', 'run', ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(resultsFile)) {
  const report = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (failed === 0 && !vitestOk) {
    // A file that fails to load, or an error outside any test, fails the run without failing a test.
    const brokenFiles = (report.testResults ?? []).filter((f) => f.status === 'failed').length;
    failed = Math.max(brokenFiles, 1);
    problems.push(
      brokenFiles > 0
        ? `${brokenFiles} test file(s) could not run`
        : 'vitest failed outside the tests (see the error above, e.g. the test servers did not start)',
    );
  } else if (failed > 0) {
    problems.push(`${failed} test(s) failed`);
  }
  if (report.numTotalTests === 0) problems.push('vitest ran no tests');
} else {
  failed = 1;
  problems.push(
    vitestOk ? 'vitest wrote no results (test-results/vitest.json)' : 'vitest failed before running tests',
  );
}
failed += problems.filter((p) => p.startsWith('lint') || p.startsWith('typecheck')).length;

if (problems.length > 0) process.stdout.write(`\nFAILED: ${problems.join('; ')}\n`);
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = problems.length > 0 ? 1 : 0;

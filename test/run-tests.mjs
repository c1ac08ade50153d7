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
let passed = 0;
let failed = 0;
let skipped = 0;

/** Adds one vitest run's counts (from its JSON report) to the totals; `label` names it in problems. */
function count(label, file, ok) {
  if (!existsSync(file)) {
    failed += 1;
    problems.push(
      ok ? `${label}: vitest wrote no results (${file})` : `${label}: vitest failed before running tests`,
    );
    return;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  const f = report.numFailedTests ?? 0;
  failed += f;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (f === 0 && !ok) {
    // A file that fails to load, or an error outside any test, fails the run without failing a test.
    const brokenFiles = (report.testResults ?? []).filter((t) => t.status === 'failed').length;
    failed += Math.max(brokenFiles, 1);
    problems.push(
      brokenFiles > 0
        ? `${label}: ${brokenFiles} test file(s) could not run`
        : `${label}: vitest failed outside the tests (see the error above, e.g. the test servers did not start)`,
    );
  } else if (f > 0) {
    problems.push(`${label}: ${f} test(s) failed`);
  }
  if (report.numTotalTests === 0) problems.push(`${label}: vitest ran no tests`);
}

count('tests', resultsFile, step('tests', ['vitest', 'run', ...process.argv.slice(2)]));

// DRAGON_REALCLOUD=1 (CI sets it; needs root): the real OpenStack services from Debian's packages
// (test/realcloud/minicloud) and the suites that run against them. The mini cloud failing to come
// up fails the run; the suites then fail with the reason, never skip.
if (process.env.DRAGON_REALCLOUD === '1') {
  const realResults = join(root, 'test-results', 'realcloud.json');
  rmSync(realResults, { force: true });
  process.stdout.write('\n== mini cloud: test/realcloud/minicloud up\n');
  const started = Date.now();
  const up = spawnSync('bash', ['test/realcloud/minicloud', 'up'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const upOk = up.status === 0;
  process.stdout.write(
    `== mini cloud: ${upOk ? 'up' : `FAILED (exit ${up.status ?? up.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  if (!upOk)
    problems.push(
      'the mini cloud did not come up (test/realcloud/minicloud up; logs under /var/tmp/dragon-minicloud/logs)',
    );
  count(
    'real-cloud tests',
    realResults,
    step('real-cloud tests', ['vitest', 'run', '--config', 'test/realcloud/vitest.config.ts']),
  );
  if (!upOk) failed += 1;
}

failed += problems.filter((p) => p.startsWith('lint') || p.startsWith('typecheck')).length;

if (problems.length > 0) process.stdout.write(`\nFAILED: ${problems.join('; ')}\n`);
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = problems.length > 0 ? 1 : 0;

// A test action plugin exercising the execution machinery. Step params:
//   sleep_ms      how long the step takes (in 10 slices, reporting progress)
//   fail          'always' | 'transient' (transient errors until attempt > fail_times)
//   fail_times    for 'transient'
//   journal       a file every start/finish/abort is appended to (one JSON line each),
//                 so tests can count how often each step really ran, and where.
import { appendFileSync } from 'node:fs';

function journal(ctx, event) {
  if (!ctx.params.journal) return;
  const line = { step: ctx.stepName, event, attempt: ctx.attempt, pid: process.pid, t: Date.now() };
  appendFileSync(ctx.params.journal, `${JSON.stringify(line)}\n`);
}

class TransientError extends Error {
  transient = true;
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

async function run(ctx) {
  journal(ctx, 'start');
  const total = Number(ctx.params.sleep_ms ?? ctx.options.sleep_ms ?? 0);
  try {
    for (let i = 1; i <= 10; i++) {
      await sleep(total / 10, ctx.signal);
      ctx.progress(i * 10);
    }
  } catch (err) {
    journal(ctx, 'aborted');
    throw err;
  }
  if (ctx.params.fail === 'always') {
    journal(ctx, 'failed');
    throw new Error(`test failure requested for ${ctx.stepName}`);
  }
  if (ctx.params.fail === 'transient' && ctx.attempt <= Number(ctx.params.fail_times ?? 1)) {
    journal(ctx, 'transient');
    throw new TransientError(`transient test failure ${ctx.attempt}`);
  }
  journal(ctx, 'finish');
  return { step: ctx.stepName, slept_ms: total, deps: Object.keys(ctx.dependencies) };
}

export default { protect: run, recover: run, verify: run };

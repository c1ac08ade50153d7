/**
 * Starts Dragon's real entry points (services/<name>/main.ts) as child processes,
 * configured through DRAGON_<SECTION>__<OPTION> variables exactly as a
 * container would, so tests can kill -9 them.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface DragonProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when a line of output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill9(): void;
  stop(): Promise<void>;
}

export function startDragonProcess(
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): DragonProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, DRAGON_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolveWait, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolveWait(m[0]);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `${entry}: no output matching ${pattern} after ${timeoutMs} ms; output:\n${out.slice(-3000)}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        child.once('exit', (code) => {
          if (!out.match(pattern)) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(
              new Error(
                `${entry} exited with ${code} before printing ${pattern}; output:\n${out.slice(-3000)}`,
              ),
            );
          }
        });
        check();
      });
    },
    kill9() {
      child.kill('SIGKILL');
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Engine settings for tests: fast heartbeats and sweeps, the test plugins. */
export function engineEnv(dbUrl: string, transportUrl: string, host: string): Record<string, string> {
  return {
    DRAGON_DATABASE__CONNECTION: dbUrl,
    DRAGON_DEFAULT__TRANSPORT_URL: transportUrl,
    DRAGON_DEFAULT__HOST: host,
    DRAGON_ENGINE__HEARTBEAT_INTERVAL: '1',
    DRAGON_ENGINE__TAKEOVER_AFTER: '3',
    DRAGON_ENGINE__SWEEP_INTERVAL: '1',
    DRAGON_PLUGINS__DIRECTORIES: resolve(ROOT, 'test/plugins'),
  };
}

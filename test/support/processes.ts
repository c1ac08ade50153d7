/**
 * Small process and network helpers shared by the test-server launchers.
 * Kept apart so that services.ts reads as "how to start PostgreSQL and
 * RabbitMQ" rather than as plumbing.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell) and rejects with its output when it fails, so failures explain themselves. */
export function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        env: options.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout}${stderr}`.trim();
          reject(
            new Error(`${file} ${args.join(' ')} failed: ${error.message}${output ? `\n${output}` : ''}`),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1. The server that gets it
 * binds a little later, so callers retry the start if another process won it.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last lines of a log file, for error messages that say why a server did not start. */
export function tailOf(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Seconds since `start` (a performance.now() value), rounded for humans. */
export function secondsSince(start: number): number {
  return Math.round(performance.now() - start) / 1000;
}

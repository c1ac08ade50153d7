import { homedir } from 'node:os';

/** Where the CLI writes and what it reads from its environment; tests pass their own. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  home: string;
  /** How often `--wait` polls an execution; tests shorten it. */
  pollIntervalMs?: number;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    home: homedir(),
  };
}

/** Run the dragon CLI in-process against the fakes, with a throwaway HOME and working directory. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli } from '../../services/cli/main.js';
import { type FakeDragon, startFakeDragon } from './fake-dragon-api.js';
import { DEMO, type FakeKeystone, startFakeKeystone } from './fake-keystone.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliWorld {
  keystone: FakeKeystone;
  regionOne: FakeDragon;
  regionTwo: FakeDragon;
  internal: FakeDragon;
  tokens: Set<string>;
  home: string;
  cwd: string;
  /** OS_* variables for the demo user against the fake Keystone */
  passwordEnv: Record<string, string>;
  run(argv: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  writeFile(path: string, text: string): void;
  close(): Promise<void>;
}

export async function startCliWorld(): Promise<CliWorld> {
  const tokens = new Set<string>(['static-admin-token']);
  const regionOne = await startFakeDragon({ tokens, region: 'RegionOne', pageSize: 2 });
  const regionTwo = await startFakeDragon({ tokens, region: 'RegionTwo' });
  const internal = await startFakeDragon({ tokens, region: 'RegionOne' });
  const keystone = await startFakeKeystone({
    tokens,
    catalog: [
      { region: 'RegionOne', url: `${regionOne.url}/v1` },
      { region: 'RegionOne', url: internal.url, interface: 'internal' },
      { region: 'RegionTwo', url: `${regionTwo.url}/` },
    ],
  });
  const root = mkdtempSync(join(tmpdir(), 'dragon-cli-'));
  const home = join(root, 'home');
  const cwd = join(root, 'work');
  mkdirSync(home);
  mkdirSync(cwd);
  const passwordEnv = {
    OS_AUTH_URL: `${keystone.url}/v3`,
    OS_USERNAME: DEMO.username,
    OS_PASSWORD: DEMO.password,
    OS_PROJECT_NAME: DEMO.project,
    OS_USER_DOMAIN_NAME: DEMO.domain,
    OS_PROJECT_DOMAIN_NAME: DEMO.domain,
  };
  return {
    keystone,
    regionOne,
    regionTwo,
    internal,
    tokens,
    home,
    cwd,
    passwordEnv,
    async run(argv, env = passwordEnv) {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: { ...env },
        cwd,
        home,
        pollIntervalMs: 5,
      });
      return { code, stdout, stderr };
    },
    writeFile(path, text) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    },
    async close() {
      await Promise.all([keystone.close(), regionOne.close(), regionTwo.close(), internal.close()]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

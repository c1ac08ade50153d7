/**
 * Real PostgreSQL and RabbitMQ servers for the integration tests.
 *
 * The servers come from Debian packages (installed here when missing and we
 * are root) but run as PRIVATE instances: own temp directories, own free
 * ports on 127.0.0.1, own Erlang cookie and epmd. They never touch the
 * machine's own clusters or nodes, so the suite runs the same on a laptop
 * that already has them and on a fresh CI machine that does not.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portAccepts, run, secondsSince, sleep, tailOf } from './processes.js';
import { cleanEnv, RabbitmqControl } from './rabbitmqctl.js';

/**
 * The one line that installs both servers and the real OpenStack clients the
 * simulator is checked against; named in every failure so the fix is obvious.
 */
export const INSTALL_COMMAND =
  'apt-get install -y --no-install-recommends postgresql rabbitmq-server python3-openstackclient python3-swiftclient python3-heatclient';

/**
 * The real OpenStack command-line clients (Debian's python3 packages) the
 * simulator tests run: package → the file that proves it is installed.
 */
export const OPENSTACK_CLIENTS: Record<string, string> = {
  'python3-openstackclient': '/usr/bin/openstack',
  'python3-swiftclient': '/usr/bin/swift',
  'python3-heatclient': '/usr/lib/python3/dist-packages/heatclient',
};

/**
 * Throws (never skips) when a real OpenStack client is missing: a test that
 * checks the simulator against clients nobody here wrote must not pass by
 * not running. `npm test` installs them (as root) before any test starts.
 */
export function requireOpenStackClients(): void {
  const missing = Object.entries(OPENSTACK_CLIENTS)
    .filter(([, path]) => !existsSync(path))
    .map(([pkg]) => pkg);
  if (missing.length > 0)
    throw new Error(
      `The real OpenStack clients are missing: ${missing.join(', ')}. ` +
        `Install them as root: \`apt-get install -y --no-install-recommends ${missing.join(' ')}\``,
    );
}

const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';

/** The bin directory of the newest installed PostgreSQL (Debian layout), or null. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : null;
}

/** The directory of the unwrapped RabbitMQ scripts, or null when rabbitmq-server is not installed. */
export function findRabbitmqBin(): string | null {
  return existsSync(join(RABBITMQ_BIN, 'rabbitmq-server')) && existsSync(join(RABBITMQ_BIN, 'rabbitmqctl'))
    ? RABBITMQ_BIN
    : null;
}

function missingPackages(): string[] {
  const missing: string[] = [];
  if (!findPostgresBin()) missing.push('postgresql');
  if (!findRabbitmqBin()) missing.push('rabbitmq-server');
  for (const [pkg, path] of Object.entries(OPENSTACK_CLIENTS)) if (!existsSync(path)) missing.push(pkg);
  return missing;
}

function aptGet(args: string[]): number {
  // Output goes to stderr so that it shows up in the test log but never mixes with reporter output.
  const result = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
    stdio: ['ignore', 2, 2],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status ?? 1;
}

/**
 * Makes sure the PostgreSQL and RabbitMQ packages are installed, installing
 * them with apt-get when we can (root). Never skips: the integration tests
 * must run against real servers, so a machine without them is an error.
 */
export function ensureServerPackages(): { postgresBin: string; rabbitmqBin: string } {
  let missing = missingPackages();
  if (missing.length > 0) {
    const installLine = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
    const isRoot = process.getuid?.() === 0;
    const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
    if (!isRoot || !hasApt) {
      throw new Error(
        `The tests need real servers and OpenStack clients; missing package(s): ${missing.join(', ')}. ` +
          `Install them as root: \`${installLine}\` (then run the tests again).`,
      );
    }
    process.stderr.write(`[test services] installing ${missing.join(' ')}: ${installLine}\n`);
    const installArgs = ['install', '-y', '-q', '--no-install-recommends', ...missing];
    if (aptGet(installArgs) !== 0) {
      // A fresh machine may have no package lists yet: fetch them and try once more.
      aptGet(['update']);
      aptGet(installArgs);
    }
    missing = missingPackages();
    if (missing.length > 0) {
      throw new Error(
        `Could not install ${missing.join(', ')} for the integration tests. ` +
          `Run as root: \`apt-get update && ${installLine}\`.`,
      );
    }
  }
  return { postgresBin: findPostgresBin()!, rabbitmqBin: findRabbitmqBin()! };
}

// ---------------------------------------------------------------- PostgreSQL

export interface PostgresServer {
  /** postgresql://postgres@127.0.0.1:PORT/postgres (trust auth, no password). */
  url: string;
  port: number;
  version: string;
  stop(): Promise<void>;
  /** Synchronous last-resort kill for process exit handlers. */
  killNow(): void;
}

/** uid/gid of the `postgres` user: PostgreSQL refuses to run as root. */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error(`user "postgres" does not exist; reinstall PostgreSQL: \`${INSTALL_COMMAND}\``);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgres(baseDir: string, binDir = findPostgresBin()): Promise<PostgresServer> {
  if (!binDir) throw new Error(`PostgreSQL is not installed: \`${INSTALL_COMMAND}\``);
  const user = postgresUser();
  // As root, every PostgreSQL program runs as `postgres` through runuser.
  const asPostgres = (program: string, args: string[]): [string, string[]] =>
    user
      ? ['runuser', ['-u', 'postgres', '--', join(binDir, program), ...args]]
      : [join(binDir, program), args];

  const dir = join(baseDir, 'postgresql');
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgresql.log');
  mkdirSync(dir, { recursive: true });
  if (user) {
    chmodSync(baseDir, 0o711); // postgres must be able to traverse our root-owned temp dir
    chownSync(dir, user.uid, user.gid);
  }
  const [initdb, initdbArgs] = asPostgres('initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
    '--no-instructions',
  ]);
  await run(initdb, initdbArgs, { cwd: dir });

  const pidFile = join(dataDir, 'postmaster.pid');
  const killNow = () => {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT'); // immediate shutdown; the data is thrown away anyway
    } catch {
      // not running
    }
  };

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // Speed over durability: the cluster lives only as long as the test run.
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      [
        '',
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 300',
        '',
      ].join('\n'),
    );
    const [pgCtl, pgCtlArgs] = asPostgres('pg_ctl', [
      '-D',
      dataDir,
      '-l',
      logFile,
      '-w',
      '-t',
      '60',
      'start',
    ]);
    try {
      await run(pgCtl, pgCtlArgs, { cwd: dir });
    } catch (error) {
      lastError = new Error(`${(error as Error).message}\n${tailOf(logFile)}`);
      continue; // most likely the port was taken in the meantime
    }
    const { stdout } = await run(join(binDir, 'postgres'), ['--version']);
    return {
      url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
      port,
      version: stdout.trim(),
      killNow,
      async stop() {
        const [stopCtl, stopArgs] = asPostgres('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
        await run(stopCtl, stopArgs, { cwd: dir }).catch(() => killNow());
      },
    };
  }
  throw lastError;
}

// ---------------------------------------------------------------- RabbitMQ

export interface RabbitmqServer {
  control: RabbitmqControl;
  /** amqp://guest:guest@127.0.0.1:PORT/ (guest may log in from loopback). */
  url: string;
  node: string;
  stop(): Promise<void>;
  killNow(): void;
}

/**
 * Starts a RabbitMQ node of our own. Its name, ports, epmd, cookie, data and
 * logs are all private, so it can run beside the machine's node (if any) and
 * beside other private nodes (a test that restarts the broker may want one).
 */
export async function startRabbitmq(baseDir: string, binDir = findRabbitmqBin()): Promise<RabbitmqServer> {
  try {
    return await startRabbitmqOnce(baseDir, binDir);
  } catch {
    // Most likely one of the free ports was taken before the node bound it: once more with new ones.
    return await startRabbitmqOnce(baseDir, binDir);
  }
}

async function startRabbitmqOnce(baseDir: string, binDir: string | null): Promise<RabbitmqServer> {
  if (!binDir) throw new Error(`RabbitMQ is not installed: \`${INSTALL_COMMAND}\``);
  const name = `dragontest${process.pid}x${randomBytes(3).toString('hex')}`;
  const node = `${name}@localhost`;
  const dir = join(baseDir, name);
  const home = join(dir, 'home');
  const logFile = join(dir, 'server.log');
  for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(home, '.erlang.cookie'), randomBytes(20).toString('hex'), { mode: 0o400 });
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq.conf'), '');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');

  const [amqpPort, distPort, epmdPort] = await Promise.all([freePort(), freePort(), freePort()]);
  // What rabbitmqctl needs too: the same epmd, cookie (HOME) and env file.
  const ctlEnv: Record<string, string> = {
    HOME: home,
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_NODENAME: node,
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
  };
  const serverEnv: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    ...ctlEnv,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    // Erlang distribution on loopback only (epmd is bound by ERL_EPMD_ADDRESS).
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const control = new RabbitmqControl({
    ctl: join(binDir, 'rabbitmqctl'),
    node,
    env: ctlEnv,
    port: amqpPort,
  });

  const out = openSync(logFile, 'a');
  // rabbitmq-server stays a shell that runs the Erlang VM as its own child, so it gets a process
  // group of its own (detached) and stop() kills the whole group: shell, beam.smp and helpers.
  const child = spawn(join(binDir, 'rabbitmq-server'), [], {
    env: serverEnv,
    cwd: dir,
    stdio: ['ignore', out, out],
    detached: true,
  });
  closeSync(out);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL'); // instant and safe: the node's data is deleted right after
    } catch {
      // already gone
    }
  };
  const epmdKill = () =>
    spawnSync('epmd', ['-port', String(epmdPort), '-kill'], { encoding: 'utf8', env: cleanEnv() });
  const killNow = () => {
    killGroup();
    epmdKill();
  };
  const stop = async () => {
    killGroup();
    await exitedPromise;
    // Our private epmd daemonized out of the group. `epmd -kill` refuses while a node is still
    // registered, so retry for the moment the killed VM takes to disappear.
    for (let attempt = 0; attempt < 50; attempt++) {
      const result = epmdKill();
      if (result.status === 0 || /cannot connect/i.test(`${result.stdout}${result.stderr}`)) break;
      await sleep(100);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 120_000;
    while (!(await portAccepts(amqpPort))) {
      if (exited) throw new Error(`rabbitmq-server exited during start-up:\n${tailOf(logFile)}`);
      if (Date.now() > deadline)
        throw new Error(`rabbitmq-server did not start in 120 s:\n${tailOf(logFile)}`);
      await sleep(100);
    }
    // The listener is up; await_startup also proves that rabbitmqctl reaches the node.
    await control.awaitReady();
  } catch (error) {
    await stop();
    throw error;
  }
  return { control, url: `amqp://guest:guest@127.0.0.1:${amqpPort}/`, node, stop, killNow };
}

// ---------------------------------------------------------------- both

export interface TestServices {
  postgres: PostgresServer;
  rabbitmq: RabbitmqServer;
  /** The variables test files read (see pg.ts and rabbit.ts). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Installs if needed, then starts both servers side by side under one temp dir. */
export async function startTestServices(log: (line: string) => void = () => {}): Promise<TestServices> {
  const t0 = performance.now();
  const { postgresBin, rabbitmqBin } = ensureServerPackages();
  const baseDir = mkdtempSync(join(tmpdir(), 'dragon-test-'));
  const timings: Record<string, number> = {};
  const timed = <T>(key: string, p: Promise<T>) => {
    const start = performance.now();
    return p.then((v) => {
      timings[key] = secondsSince(start);
      return v;
    });
  };
  const [pgResult, rabbitResult] = await Promise.allSettled([
    timed('postgres', startPostgres(baseDir, postgresBin)),
    timed('rabbitmq', startRabbitmq(baseDir, rabbitmqBin)),
  ]);
  if (pgResult.status === 'rejected' || rabbitResult.status === 'rejected') {
    if (pgResult.status === 'fulfilled') await pgResult.value.stop();
    if (rabbitResult.status === 'fulfilled') await rabbitResult.value.stop();
    rmSync(baseDir, { recursive: true, force: true });
    throw pgResult.status === 'rejected' ? pgResult.reason : (rabbitResult as PromiseRejectedResult).reason;
  }
  const postgres = pgResult.value;
  const rabbitmq = rabbitResult.value;

  // If the run dies without teardown (Ctrl-C, crash), do not leave servers behind.
  const onExit = () => {
    postgres.killNow();
    rabbitmq.killNow();
    rmSync(baseDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  log(
    `PostgreSQL (${postgres.version}) on 127.0.0.1:${postgres.port} ready in ${timings.postgres} s; ` +
      `RabbitMQ node ${rabbitmq.node} ready in ${timings.rabbitmq} s; total ${secondsSince(t0)} s`,
  );
  const control = rabbitmq.control.info;
  return {
    postgres,
    rabbitmq,
    env: {
      DRAGON_TEST_PG_URL: postgres.url,
      DRAGON_TEST_RABBIT_URL: rabbitmq.url,
      DRAGON_TEST_RABBIT_NODE: rabbitmq.node,
      DRAGON_TEST_RABBITMQCTL: control.ctl,
      DRAGON_TEST_RABBITMQCTL_ENV: JSON.stringify(control.env),
    },
    async stop() {
      const start = performance.now();
      process.removeListener('exit', onExit);
      await Promise.allSettled([postgres.stop(), rabbitmq.stop()]);
      rmSync(baseDir, { recursive: true, force: true });
      log(`servers stopped in ${secondsSince(start)} s`);
    },
  };
}

/**
 * `npm run demo`: the walkthrough of docs/quickstart.md as a script. It
 * starts a fresh all-in-one Dragon (`npm start`'s entry point, with the
 * cloud simulator and its demo workload) in a temporary state directory on
 * free ports, then drives the real `dragon`, `dragon-cloudsim` and (when
 * installed) `openstack` commands step by step, checking what each prints.
 * The first failing step stops the demo with its name and the command's
 * output; the last line is `demo: all N steps passed` otherwise.
 *
 *   node --import tsx test/demo/run-demo.ts [--from-source] [--require-openstack] [--keep]
 *
 * --from-source  run Dragon and the CLIs from the TypeScript sources (tsx) instead of dist/
 *                (the integration test: no build of dist/ racing another test)
 * --require-openstack  fail instead of skipping the `openstack` checks when the client is missing
 * --keep         keep the state directory (and print where it is)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const args = new Set(process.argv.slice(2));
for (const a of args)
  if (!['--from-source', '--require-openstack', '--keep'].includes(a)) {
    process.stderr.write(`run-demo: unknown option ${a}\n`);
    process.exit(2);
  }
const fromSource = args.has('--from-source');
const requireOpenstack = args.has('--require-openstack');
const keep = args.has('--keep');

/** How each command of the walkthrough is run here, and the name it is shown under. */
const node = (script: string) =>
  fromSource ? [process.execPath, '--import', 'tsx', script] : [process.execPath, script];
const COMMANDS: Record<string, string[]> = {
  dragon: node(fromSource ? join(ROOT, 'test/demo/dragon-from-source.ts') : join(ROOT, 'bin/dragon.js')),
  'dragon-cloudsim': node(
    fromSource ? join(ROOT, 'services/cloudsim/main.ts') : join(ROOT, 'bin/dragon-cloudsim.js'),
  ),
  openstack: ['openstack'],
};
const ALLINONE = node(
  fromSource ? join(ROOT, 'services/allinone/main.ts') : join(ROOT, 'dist/services/allinone/main.js'),
);

const haveOpenstack = spawnSync('openstack', ['--version'], { stdio: 'ignore' }).status === 0;
if (!haveOpenstack && requireOpenstack) {
  process.stderr.write(
    'run-demo: the openstack client is not installed (apt install python3-openstackclient)\n',
  );
  process.exit(1);
}

const state = mkdtempSync(join(tmpdir(), 'dragon-demo-'));
const cloudsYaml = join(state, 'clouds.yaml');
/** The environment of every command: the demo's clouds.yaml and state, none of the caller's OS_* settings. */
const baseEnv: Record<string, string> = {
  ...(Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => !k.startsWith('OS_') && v !== undefined),
  ) as Record<string, string>),
  OS_CLIENT_CONFIG_FILE: cloudsYaml,
  DRAGON_DEFAULT__STATE_PATH: state,
};

interface Ran {
  line: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

class StepFailure extends Error {
  constructor(
    message: string,
    readonly ran?: Ran,
  ) {
    super(message);
  }
}

let last: Ran | undefined;

function run(command: string, argv: string[], env: Record<string, string> = {}, timeoutMs = 300_000) {
  const [exe, ...pre] = COMMANDS[command];
  const line = [command, ...argv].map((a) => (/[\s'"]/.test(a) ? `'${a}'` : a)).join(' ');
  process.stdout.write(`    $ ${line}\n`);
  return new Promise<Ran>((resolveRun) => {
    const child = spawn(exe, [...pre, ...argv], { cwd: ROOT, env: { ...baseEnv, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      stderr += `\n(run-demo: killed after ${timeoutMs / 1000} s)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      last = { line, code, stdout, stderr };
      resolveRun(last);
    });
  });
}

/** Runs a command that must succeed; with `-f json` appended when `json` is set, and parses it. */
async function ok(command: string, argv: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await run(command, argv, env);
  if (r.code !== 0) throw new StepFailure(`${command} exited with ${r.code}`, r);
  return r.stdout;
}

// biome-ignore lint/suspicious/noExplicitAny: the commands' JSON is checked field by field
type Json = any;

async function json(command: string, argv: string[], env: Record<string, string> = {}): Promise<Json> {
  const out = await ok(command, [...argv, '-f', 'json'], env);
  try {
    return JSON.parse(out);
  } catch {
    throw new StepFailure(`${command} did not print JSON`, last);
  }
}

/** A field of a `-f json` row by its column name or API key (`Backup Site`, `backup_site`). */
function field(row: Record<string, unknown>, name: string): Json {
  const norm = (s: string) => s.toLowerCase().replace(/[\s-]+/g, '_');
  const key = Object.keys(row).find((k) => norm(k) === norm(name));
  return key === undefined ? undefined : row[key];
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StepFailure(message, last);
}

const dragon = (cloud: string, argv: string[]) => json('dragon', argv, { OS_CLOUD: cloud });

/** `openstack --os-cloud <cloud> <argv> -f json`, or undefined when the client is not installed. */
async function openstack(cloud: string, argv: string[]): Promise<Json | undefined> {
  if (!haveOpenstack) {
    process.stdout.write(
      `    (skipped: openstack --os-cloud ${cloud} ${argv.join(' ')}; no openstack client)\n`,
    );
    return undefined;
  }
  return json('openstack', ['--os-cloud', cloud, ...argv]);
}

/** Each server's fixed IP on the shop network (the first address `openstack server list` shows). */
function fixedAddresses(servers: Json[]): Record<string, string | undefined> {
  return Object.fromEntries(
    servers
      .map((s) => [s.Name as string, JSON.stringify(s.Networks).match(/\d+\.\d+\.\d+\.\d+/)?.[0]] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

const steps: Array<{ name: string; ms: number }> = [];

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const n = steps.length + 1;
  process.stdout.write(`\n[${n}] ${name}\n`);
  const started = Date.now();
  last = undefined;
  try {
    const result = await fn();
    const ms = Date.now() - started;
    steps.push({ name, ms });
    process.stdout.write(`[${n}] ok (${(ms / 1000).toFixed(1)} s)\n`);
    return result;
  } catch (err) {
    const ran = err instanceof StepFailure ? (err.ran ?? last) : last;
    const lines = [
      '',
      `DEMO FAILED at step ${n} "${name}": ${(err as Error).message}`,
      ...(ran
        ? [
            `  command: ${ran.line} (exit ${ran.code})`,
            '  --- stdout ---',
            ran.stdout.slice(-4000),
            '  --- stderr ---',
            ran.stderr.slice(-4000),
          ]
        : []),
      `demo: ${steps.length} step(s) passed, failed at step ${n} "${name}"`,
    ];
    throw new DemoFailed(lines.join('\n'));
  }
}

class DemoFailed extends Error {}

/** The all-in-one, as `npm start` runs it, on free ports in the demo's own state directory. */
function startDragon(): { child: ChildProcess; output: () => string; ready: Promise<string> } {
  const [exe, ...pre] = ALLINONE;
  const child = spawn(exe, pre, {
    cwd: ROOT,
    env: {
      ...baseEnv,
      DRAGON_API__BIND_PORT: '0',
      DRAGON_CLOUDSIM__KEYSTONE_PORT: '0',
      DRAGON_CLOUDSIM__ADMIN_PORT: '0',
      DRAGON_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<string>((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "Next" commands printed in 180 s:\n${out}`)),
      180_000,
    );
    const onData = (d: Buffer) => {
      out += d;
      if (/^Next /m.test(out) && /openstack --os-cloud sim-backup server list/.test(out)) {
        clearTimeout(timer);
        resolveReady(out);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Dragon exited with ${code}:\n${out}`));
    });
  });
  return { child, output: () => out, ready };
}

async function stopDragon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

async function demo(dragonProcess: ReturnType<typeof startDragon>): Promise<void> {
  const { primary, backup } = await step(
    'npm start: Dragon, the two-site simulator and the demo workload',
    async () => {
      let printed: string;
      try {
        printed = await dragonProcess.ready;
      } catch (err) {
        throw new StepFailure((err as Error).message);
      }
      process.stdout.write(
        printed
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => `    | ${l}\n`)
          .join(''),
      );
      expect(
        printed.includes(`clouds.yaml for the CLI: ${cloudsYaml}`),
        'the clouds.yaml path is not printed',
      );
      const sites = printed.match(/primary site (\S+), backup site (\S+)\)/);
      expect(sites, 'the primary and backup sites are not printed');
      expect(/demo workload at \S+: servers shop-web/.test(printed), 'no demo workload reported');
      return { primary: sites[1], backup: sites[2] };
    },
  );

  const primaryAddresses = await step(
    `look at the workload: openstack server list at ${primary}`,
    async () => {
      const servers = await openstack('sim-primary', ['server', 'list']);
      if (!servers) return undefined;
      const seen = servers.map((s: Json) => `${s.Name} ${s.Status}`).sort();
      expect(
        JSON.stringify(seen) === JSON.stringify(['shop-app ACTIVE', 'shop-db ACTIVE', 'shop-web ACTIVE']),
        `expected shop-web, shop-app and shop-db ACTIVE, got ${seen.join(', ')}`,
      );
      return fixedAddresses(servers);
    },
  );

  const ids = await step('dragon protectable list', async () => {
    const rows = await dragon('sim-primary', ['protectable', 'list', '--site', primary]);
    const byName = (name: string, type: string) =>
      rows.find((r: Json) => field(r, 'name') === name && field(r, 'type') === type);
    const found = {
      web: byName('shop-web', 'OS::Nova::Server'),
      app: byName('shop-app', 'OS::Nova::Server'),
      db: byName('shop-db', 'OS::Nova::Server'),
      data: byName('shop-data', 'OS::Cinder::Volume'),
    };
    for (const [k, v] of Object.entries(found)) expect(v, `shop-${k} is not protectable`);
    return { web: field(found.web, 'id'), app: field(found.app, 'id'), db: field(found.db, 'id') };
  });

  await step(`dragon policy create web-shop --backup-site ${backup}`, async () => {
    const policy = await dragon('sim-primary', [
      'policy',
      'create',
      'web-shop',
      '--description',
      'the quickstart shop',
      '--backup-site',
      backup,
    ]);
    expect(field(policy, 'backup_site') === backup, `backup site is ${field(policy, 'backup_site')}`);
  });

  await step(
    'dragon policy resource add --with-dependencies (the three servers and their volumes)',
    async () => {
      for (const id of [ids.web, ids.app, ids.db])
        await dragon('sim-primary', [
          'policy',
          'resource',
          'add',
          'web-shop',
          '--resource-id',
          id,
          '--type',
          'OS::Nova::Server',
          '--action',
          'image-copy',
          '--with-dependencies',
        ]);
      const rows = await dragon('sim-primary', ['policy', 'resource', 'list', 'web-shop']);
      const seen = rows.map((r: Json) => `${field(r, 'resource_name')}:${field(r, 'action')}`).sort();
      const want = [
        'shop-app:image-copy',
        'shop-data:volume-snapshot',
        'shop-db:image-copy',
        'shop-db:volume-snapshot',
        'shop-web:image-copy',
      ];
      expect(JSON.stringify(seen) === JSON.stringify(want), `policy resources are ${seen.join(', ')}`);
    },
  );

  const checkpoint = await step('dragon policy protect web-shop --wait', async () => {
    const cp = await dragon('sim-primary', ['policy', 'protect', 'web-shop', '--wait']);
    expect(field(cp, 'status') === 'available', `checkpoint status ${field(cp, 'status')}`);
    expect(field(cp, 'site') === backup, `checkpoint at ${field(cp, 'site')}, not ${backup}`);
    expect(/^web-shop_\d{8}T\d{6}Z$/.test(field(cp, 'container')), `container ${field(cp, 'container')}`);
    return { id: field(cp, 'id') as string, container: field(cp, 'container') as string };
  });

  await step(`switch the primary site off: dragon-cloudsim site off ${primary}`, async () => {
    const out = await ok('dragon-cloudsim', ['site', 'off', primary]);
    expect(out.startsWith(`${primary}: off`), `dragon-cloudsim printed ${out}`);
    const r = await run('dragon', ['protectable', 'list', '--site', primary], { OS_CLOUD: 'sim-primary' });
    expect(r.code !== 0, `the primary site still answers: ${r.stdout}`);
  });

  const bankId = await step(`dragon checkpoint list --source bank --site ${backup}`, async () => {
    const rows = await dragon('sim-backup', ['checkpoint', 'list', '--source', 'bank', '--site', backup]);
    const mine = rows.find(
      (r: Json) => field(r, 'container') === checkpoint.container || field(r, 'id') === checkpoint.id,
    );
    expect(mine, `the bank at ${backup} does not list ${checkpoint.container}`);
    const usable = field(mine, 'usable');
    expect(usable === undefined || usable === true, `the checkpoint is not usable: ${field(mine, 'reason')}`);
    return (field(mine, 'id') as string | undefined) ?? checkpoint.container;
  });

  /** `dragon recovery create ... --wait`, then the recovery as `recovery show` gives it. */
  const recover = async (extra: string[]) => {
    const r = await run(
      'dragon',
      ['recovery', 'create', bankId, '--site', backup, ...extra, '--wait', '-f', 'json'],
      { OS_CLOUD: 'sim-backup' },
    );
    let id: string | undefined;
    try {
      id = field(JSON.parse(r.stdout), 'id');
    } catch {
      id = r.stdout.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)?.[0];
    }
    if (r.code !== 0) throw new StepFailure(`dragon recovery create exited with ${r.code}`, r);
    expect(id, 'dragon recovery create printed no recovery id');
    const shown = await dragon('sim-backup', ['recovery', 'show', id]);
    return { id, shown };
  };

  await step(`dragon recovery create --site ${backup} --dry-run --wait`, async () => {
    const { shown } = await recover(['--stack-name', 'web-shop', '--dry-run']);
    expect(field(shown, 'status') === 'planned', `dry run status ${field(shown, 'status')}`);
    const problems: string[] = field(shown, 'problems') ?? [];
    expect(problems.length === 0, `the dry run found problems: ${problems.join('; ')}`);
  });

  const recovered = await step(
    `recover at the backup site: dragon recovery create --site ${backup} --wait`,
    async () => {
      const { id, shown } = await recover(['--stack-name', 'web-shop']);
      expect(
        field(shown, 'status') === 'available',
        `recovery status ${field(shown, 'status')}: ${field(shown, 'error')}`,
      );
      process.stdout.write(`    recovered: RTO ${shown['RTO (s)']} s, RPO ${shown['RPO (s)']} s\n`);
      return id;
    },
  );

  const production = await step(`openstack --os-cloud sim-backup server list at ${backup}`, async () => {
    const servers = await openstack('sim-backup', ['server', 'list']);
    if (!servers) return undefined;
    const seen = servers.map((s: Json) => `${s.Name} ${s.Status}`).sort();
    expect(
      JSON.stringify(seen) === JSON.stringify(['shop-app ACTIVE', 'shop-db ACTIVE', 'shop-web ACTIVE']),
      `expected shop-web, shop-app and shop-db ACTIVE at ${backup}, got ${seen.join(', ')}`,
    );
    if (primaryAddresses) {
      const now = fixedAddresses(servers);
      expect(
        JSON.stringify(now) === JSON.stringify(primaryAddresses),
        `fixed IPs at ${backup} ${JSON.stringify(now)}, at ${primary} they were ${JSON.stringify(primaryAddresses)}`,
      );
    }
    const web = servers.find((s: Json) => s.Name === 'shop-web');
    expect(
      JSON.stringify(web.Networks).match(/\d+\.\d+\.\d+\.\d+/g)?.length === 2,
      'shop-web has no floating IP',
    );
    const volumes = await openstack('sim-backup', ['volume', 'list']);
    const vols = volumes.map((v: Json) => `${v.Name} ${v.Status}`).sort();
    expect(
      JSON.stringify(vols) === JSON.stringify(['shop-data in-use', 'shop-db in-use']),
      `expected shop-data and shop-db in-use at ${backup}, got ${vols.join(', ')}`,
    );
    return servers.map((s: Json) => s.ID as string).sort();
  });

  const drill = await step('run a drill: dragon recovery create --drill --wait', async () => {
    const { id, shown } = await recover(['--stack-name', 'web-shop-drill', '--drill']);
    expect(
      field(shown, 'status') === 'available',
      `drill status ${field(shown, 'status')}: ${field(shown, 'error')}`,
    );
    expect(field(shown, 'drill') === true, 'the recovery is not marked as a drill');
    // `ok <check> <resource id>` or `FAILED <check> <resource id>`: servers ACTIVE, volume bytes as protected.
    const checks: string[] = field(shown, 'checks') ?? [];
    expect(checks.length > 0, 'the drill reports no checks');
    const failed = checks.filter((c) => !c.startsWith('ok '));
    expect(failed.length === 0, `drill checks failed: ${failed.join('; ')}`);
    expect(typeof shown['RTO (s)'] === 'number', 'the drill reports no RTO');
    expect(typeof shown['RPO (s)'] === 'number', 'the drill reports no RPO');
    process.stdout.write(
      `    drill: RTO ${shown['RTO (s)']} s, RPO ${shown['RPO (s)']} s, ${checks.length} checks ok\n`,
    );
    return id;
  });

  await step('tear the drill down: dragon recovery delete --wait', async () => {
    await ok('dragon', ['recovery', 'delete', drill, '--wait'], { OS_CLOUD: 'sim-backup' });
    const r = await run('dragon', ['recovery', 'show', drill, '-f', 'json'], { OS_CLOUD: 'sim-backup' });
    if (r.code === 0) {
      const status = field(JSON.parse(r.stdout), 'status');
      expect(status === 'deleted', `the drill is ${status} after delete --wait`);
    }
    const kept = await dragon('sim-backup', ['recovery', 'show', recovered]);
    expect(field(kept, 'status') === 'available', `the recovered workload is ${field(kept, 'status')} now`);
    if (production) {
      const servers = await openstack('sim-backup', ['server', 'list']);
      const now = servers.map((s: Json) => s.ID as string).sort();
      expect(
        JSON.stringify(now) === JSON.stringify(production),
        `the backup site's servers changed after the drill: ${servers.map((s: Json) => s.Name).join(', ')}`,
      );
    }
  });

  await step(`switch the primary site on again: dragon-cloudsim site on ${primary}`, async () => {
    const out = await ok('dragon-cloudsim', ['site', 'on', primary]);
    expect(out.startsWith(`${primary}: on`), `dragon-cloudsim printed ${out}`);
  });
}

process.stdout.write(
  `demo: state directory ${state}; commands from ${fromSource ? 'the sources (tsx)' : 'bin/ (dist/)'}\n`,
);
const dragonProcess = startDragon();
const cleanup = async () => {
  await stopDragon(dragonProcess.child);
  if (!keep) rmSync(state, { recursive: true, force: true });
  else process.stdout.write(`demo: kept ${state}\n`);
};
process.once('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});
try {
  await demo(dragonProcess);
  const total = steps.reduce((s, x) => s + x.ms, 0);
  process.stdout.write(`\ndemo: all ${steps.length} steps passed in ${(total / 1000).toFixed(1)} s\n`);
} catch (err) {
  process.stdout.write(`${err instanceof DemoFailed ? err.message : (err as Error).stack}\n`);
  if (!(err instanceof DemoFailed)) process.stdout.write('demo: failed outside the steps\n');
  process.exitCode = 1;
} finally {
  await cleanup();
}

import { hostname } from 'node:os';
import { bool, choice, defineGroup, int, list, str } from './types.js';

export const defaultOpts = defineGroup('DEFAULT', 'Options shared by every Dragon service.', {
  transport_url: str(
    '',
    'RabbitMQ URL for RPC between dragon-api and dragon-engine, oslo.messaging style ' +
      '(rabbit://user:pass@host:5672/vhost). Empty means the in-process bus, which only ' +
      'works when api and engine run in one process (npm start).',
    { secret: true },
  ),
  state_path: str('./state', 'Directory for local state: the embedded database, keys and simulator data.'),
  debug: bool(false, 'Log at debug level instead of info.'),
  log_format: choice(
    'json',
    ['json', 'text'] as const,
    'Log line format: one JSON object per line, or text.',
  ),
  auth_strategy: choice(
    'keystone',
    ['keystone', 'noauth'] as const,
    'How dragon-api authenticates callers: keystone validates X-Auth-Token with Keystone ' +
      '([keystone_authtoken]); noauth trusts an X-Auth-Token of the form user:project[:role,role] ' +
      '(development only: anyone can act as anyone).',
  ),
  host: str(hostname(), 'Name of this host in the services table and in the per-host RPC queue.', {
    sampleDefault: '<hostname>',
  }),
});

export const apiOpts = defineGroup('api', 'The dragon-api REST service.', {
  bind_host: str('127.0.0.1', 'Address the API listens on.'),
  bind_port: int(8007, 'Port the API listens on.', { min: 0, max: 65535 }),
  workers: int(1, 'Number of API worker processes.', { min: 1, max: 64 }),
  list_cache_mib: int(
    16,
    'MiB of serialised policy list pages each API worker keeps. A page is served again only while the ' +
      "project's change counter in the database is unchanged (checked on every request), so every worker " +
      'answers with current data. 0 disables the cache.',
    { min: 0, max: 4096 },
  ),
});

export const databaseOpts = defineGroup(
  'database',
  'The SQL database holding policies, executions and services.',
  {
    connection: str(
      '',
      'PostgreSQL URL (postgresql://user:pass@host:5432/dragon). Empty means the embedded ' +
        'PostgreSQL (PGlite) kept under state_path/db.',
      { secret: true },
    ),
    max_pool_size: int(10, 'Maximum number of connections per process to a PostgreSQL server.', {
      min: 1,
      max: 500,
    }),
  },
);

export const engineOpts = defineGroup('engine', 'The dragon-engine execution service.', {
  max_parallel_steps: int(8, 'How many steps of one execution run at the same time.', { min: 1, max: 1024 }),
  heartbeat_interval: int(5, 'Seconds between an engine heartbeat on the executions it runs.', { min: 1 }),
  takeover_after: int(30, 'Seconds without a heartbeat after which another engine takes an execution over.', {
    min: 2,
  }),
  sweep_interval: int(
    10,
    'Seconds between sweeps for pending executions whose RPC announcement was lost and for expired claims.',
    { min: 1 },
  ),
  max_executions: int(4, 'How many executions one engine runs at the same time.', { min: 1, max: 256 }),
  schedule_interval: int(
    30,
    'Seconds between scheduler passes (scheduled protects, retention) of the leading engine.',
    {
      min: 1,
    },
  ),
  step_retries: int(3, 'How many times a step failing with a transient error is retried.', {
    min: 0,
    max: 100,
  }),
  retry_backoff: int(2, 'Seconds before the first retry of a step; doubled on every further retry.', {
    min: 0,
  }),
});

export const pluginOpts = defineGroup('plugins', 'Action plugins.', {
  load_shipped: bool(
    true,
    'Load the action plugins shipped with Dragon (image-copy, server-snapshot, volume-snapshot, volume-replication).',
  ),
  directories: list(
    [],
    'More directories whose sub-folders each hold one action plugin (manifest.json), e.g. /etc/dragon/plugins.',
  ),
});

export const messagingOpts = defineGroup('oslo_messaging_rabbit', 'RabbitMQ transport tuning.', {
  rpc_response_timeout: int(60, 'Seconds an RPC call waits for its reply.', { min: 1 }),
  prefetch_count: int(8, 'Unacknowledged messages an engine takes at once.', { min: 1, max: 1000 }),
  reconnect_max_delay: int(30, 'Upper bound in seconds of the reconnect backoff.', { min: 1 }),
});

export const cloudsimOpts = defineGroup(
  'cloudsim',
  'The built-in two-site cloud simulator that npm start runs when no Keystone is configured ([keystone_authtoken] auth_url empty).',
  {
    keystone_port: int(
      5000,
      'Port of the simulated Keystone (the other simulated services take free ports).',
      {
        min: 0,
        max: 65535,
      },
    ),
    data_dir: str('', 'Where the simulator keeps its data; empty means state_path/cloudsim.'),
    admin_port: int(
      0,
      'Port of the fault-injection endpoint (dragon-cloudsim site off|on); 0 means any free port. ' +
        'Its URL is written to state_path/cloudsim.json.',
      { min: 0, max: 65535 },
    ),
    demo_workload: bool(
      true,
      'On the first start, create the three-tier demo workload (servers shop-web, shop-app, shop-db) ' +
        'at the primary site in the demo project; recorded in state_path/demo-workload.json.',
    ),
  },
);

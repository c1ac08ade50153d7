/**
 * dragon-engine: consumes RPC (`run_execution`, `cancel_execution`) as a
 * competing consumer, sweeps the database for executions nobody announced
 * or whose engine died, runs them, and heartbeats its row in the services
 * table together with the plugins it loaded.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { internalContext } from '../common/context.js';
import { getLogger, type Logger } from '../common/log.js';
import { ENGINE_TOPIC, type RpcServerHandle, type Transport } from '../common/rpc/types.js';
import { recordService } from '../common/services-table.js';
import {
  type ExecutionKindHooks,
  type ExecutorSettings,
  RunningExecution,
  runExecution,
} from './executor.js';
import { describePlugins, type LoadedPlugin, loadPlugins } from './plugins/loader.js';
import { type Claim, claimExecution } from './store.js';

export interface EngineSettings extends ExecutorSettings {
  takeoverAfterS: number;
  sweepIntervalMs: number;
  /** Executions one engine runs at the same time. */
  maxExecutions: number;
  pluginDirectories: readonly string[];
  version: string;
}

export class Engine {
  readonly log: Logger;
  plugins = new Map<string, LoadedPlugin>();
  readonly running = new Map<string, RunningExecution>();
  #rpc?: RpcServerHandle;
  #sweepTimer?: NodeJS.Timeout;
  #heartbeatTimer?: NodeJS.Timeout;
  #stopping = false;
  #sweeping?: Promise<void>;
  readonly #tasks = new Set<Promise<void>>();

  constructor(
    readonly db: Knex,
    readonly transport: Transport,
    readonly settings: EngineSettings,
    /** Execution kinds with their context and outcome hooks (protect, recover, ...). */
    readonly kinds: Record<string, ExecutionKindHooks> = {},
    /** Built-in actions (template builder, manifest writer) beside the plugins found on disk. */
    readonly builtins: LoadedPlugin[] = [],
  ) {
    this.log = getLogger('dragon-engine', { host: settings.host });
  }

  async start(): Promise<void> {
    const { plugins } = await loadPlugins(this.settings.pluginDirectories, this.log);
    for (const b of this.builtins) plugins.set(b.manifest.name, b);
    this.plugins = plugins;
    await this.#heartbeatService();
    this.#heartbeatTimer = setInterval(() => {
      this.#heartbeatService().catch((err) =>
        this.log.warn({ err: (err as Error).message }, 'service heartbeat failed'),
      );
    }, this.settings.heartbeatIntervalMs);
    this.#rpc = await this.transport.listen(ENGINE_TOPIC, this.settings.host, {
      run_execution: (_ctx, args) => this.#onRunExecution(String(args.execution_id)),
      cancel_execution: (_ctx, args) => this.#onCancel(String(args.execution_id)),
      ping: () => ({ host: this.settings.host, running: [...this.running.keys()] }),
    });
    this.#sweepTimer = setInterval(() => void this.sweep(), this.settings.sweepIntervalMs);
    this.log.info({ plugins: [...this.plugins.keys()] }, 'engine started');
    // Work accepted while no engine was up is found at once, not after the first interval.
    void this.sweep();
  }

  /** RPC: claim the announced execution (persisted before the ack) and run it in the background. */
  async #onRunExecution(id: string): Promise<{ accepted: boolean }> {
    if (this.#stopping || this.running.size >= this.settings.maxExecutions) return { accepted: false };
    const claim = await claimExecution(this.db, this.settings.host, this.settings.takeoverAfterS, id);
    if (!claim) return { accepted: false };
    this.#start(claim);
    return { accepted: true };
  }

  async #onCancel(id: string): Promise<{ cancelling: boolean }> {
    const r = this.running.get(id);
    if (!r) return { cancelling: false };
    this.log.info({ execution_id: id }, 'cancel requested');
    r.stop('cancel');
    return { cancelling: true };
  }

  /** Claims and starts pending or orphaned executions while there is capacity. */
  sweep(): Promise<void> {
    if (this.#sweeping) return this.#sweeping;
    // Assigned before the loop starts: a sweep that finds no capacity finishes
    // synchronously, and must not leave a settled promise behind as the guard.
    const sweep = Promise.resolve().then(async () => {
      try {
        while (!this.#stopping && this.running.size < this.settings.maxExecutions) {
          const claim = await claimExecution(this.db, this.settings.host, this.settings.takeoverAfterS);
          if (!claim) break;
          this.#start(claim);
        }
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'sweep failed');
      } finally {
        if (this.#sweeping === sweep) this.#sweeping = undefined;
      }
    });
    this.#sweeping = sweep;
    return sweep;
  }

  #start(claim: Claim): void {
    const running = new RunningExecution(claim.execution.id);
    this.running.set(claim.execution.id, running);
    const task = runExecution(claim, running, {
      db: this.db,
      plugins: this.plugins,
      settings: this.settings,
      log: this.log,
      kinds: this.kinds,
    })
      .catch((err) =>
        this.log.error(
          { execution_id: claim.execution.id, err: (err as Error).message },
          'execution run aborted',
        ),
      )
      .finally(() => {
        this.running.delete(claim.execution.id);
        this.#tasks.delete(task);
        // Capacity freed: look for more work without waiting for the next interval.
        if (!this.#stopping) setImmediate(() => void this.sweep());
      });
    this.#tasks.add(task);
  }

  async #heartbeatService(): Promise<void> {
    await recordService(this.db, {
      host: this.settings.host,
      binary: 'dragon-engine',
      version: this.settings.version,
      // Built-in steps are machinery, not actions a tenant can choose.
      plugins: describePlugins(new Map([...this.plugins].filter(([, p]) => !this.builtins.includes(p)))),
    });
  }

  /** Graceful stop: no new work, running executions handed back for another engine. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#sweepTimer);
    clearInterval(this.#heartbeatTimer);
    await this.#rpc?.stop();
    await this.#sweeping;
    for (const r of this.running.values()) r.stop('shutdown');
    await Promise.allSettled([...this.#tasks]);
    this.log.info('engine stopped');
  }
}

/** Writes a pending execution (done by the API or the scheduler) and announces it; the sweep covers a lost announcement. */
export async function announceExecution(
  transport: Transport,
  executionId: string,
  requestId?: string,
): Promise<boolean> {
  try {
    await transport.cast(
      { topic: ENGINE_TOPIC },
      'run_execution',
      { execution_id: executionId },
      internalContext(requestId ?? `req-${randomUUID()}`),
    );
    return true;
  } catch (err) {
    getLogger('rpc').warn(
      { execution_id: executionId, err: (err as Error).message },
      'could not announce the execution; an engine sweep will pick it up',
    );
    return false;
  }
}

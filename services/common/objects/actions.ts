/**
 * Actions are the protection plugins the running engines have loaded. The
 * API has no plugin code of its own: it learns them from the `plugins` each
 * live engine publishes in its services row, so what it offers is what an
 * engine can actually run.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { Knex } from 'knex';
import { DragonError } from '../errors.js';
import { getLogger } from '../log.js';
import { liveEngines, type PluginInfo } from './services.js';

export type ActionInfo = PluginInfo;

/**
 * The union by name over live engines. When engines disagree (a rolling
 * upgrade), the engine with the newest heartbeat wins, deterministically.
 */
export async function listActions(
  db: Knex,
  heartbeatIntervalSeconds: number,
  filters: { resource_type?: string } = {},
): Promise<ActionInfo[]> {
  const byName = new Map<string, ActionInfo>();
  for (const engine of await liveEngines(db, heartbeatIntervalSeconds)) {
    for (const plugin of Array.isArray(engine.plugins) ? engine.plugins : []) {
      if (plugin && typeof plugin.name === 'string' && !byName.has(plugin.name))
        byName.set(plugin.name, plugin);
    }
  }
  return [...byName.values()]
    .filter((a) => filters.resource_type === undefined || a.resource_type === filters.resource_type)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function getAction(
  db: Knex,
  name: string,
  heartbeatIntervalSeconds: number,
): Promise<ActionInfo> {
  const found = (await listActions(db, heartbeatIntervalSeconds)).find((a) => a.name === name);
  if (!found) throw new DragonError(404, `Action ${name} could not be found.`);
  return found;
}

const compiled = new Map<string, ValidateFunction>();

function optionsValidator(action: ActionInfo): ValidateFunction {
  const key = `${action.name}@${action.version}:${JSON.stringify(action.options_schema ?? {})}`;
  let fn = compiled.get(key);
  if (!fn) {
    try {
      // A fresh Ajv per schema: two versions of one plugin may reuse a `$id`, which one
      // instance refuses. Not strict: plugin authors may use keywords Ajv does not know.
      fn = new Ajv({ allErrors: false, strict: false }).compile(action.options_schema ?? {});
    } catch (err) {
      getLogger('dragon-api').error(
        { action: action.name, err: (err as Error).message },
        'bad options schema',
      );
      throw new DragonError(500, `Action ${action.name} publishes an invalid options schema.`);
    }
    compiled.set(key, fn);
  }
  return fn;
}

/**
 * Checks that `actionName` is loaded, acts on `resourceType`, and accepts
 * `options`. Every failure is the caller's to fix, hence 400.
 */
export async function checkActionFor(
  db: Knex,
  heartbeatIntervalSeconds: number,
  resourceType: string,
  actionName: string,
  options: Record<string, unknown>,
): Promise<ActionInfo> {
  const action = (await listActions(db, heartbeatIntervalSeconds)).find((a) => a.name === actionName);
  if (!action) throw new DragonError(400, `Action ${actionName} is not loaded by any running engine.`);
  if (action.resource_type !== resourceType) {
    throw new DragonError(400, `Action ${actionName} protects ${action.resource_type}, not ${resourceType}.`);
  }
  const validate = optionsValidator(action);
  if (!validate(options)) {
    const e = validate.errors?.[0];
    const where = `options${e?.instancePath ?? ''}`;
    const extra =
      e?.keyword === 'additionalProperties'
        ? ` ('${(e.params as { additionalProperty: string }).additionalProperty}' was unexpected)`
        : '';
    throw new DragonError(
      400,
      `Invalid options for action ${actionName}: ${where} ${e?.message ?? 'is invalid'}${extra}`,
    );
  }
  return action;
}

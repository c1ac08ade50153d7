/**
 * HOT templates: parsing (an object, or YAML/JSON text), the version check,
 * parameters (types, defaults, constraints, hidden), resource definitions
 * (known type, known and required properties, valid references) and outputs.
 * Errors are Heat's: StackValidationFailed, InvalidTemplateVersion,
 * InvalidTemplateReference, UserParameterMissing.
 */
import { parse as parseYaml } from 'yaml';
import { HeatError } from './errors.js';
import { evaluateCondition, paramNames, references } from './functions.js';
import { DependencyGraph } from './graph.js';
import { addImplicitDependencies } from './implicit-deps.js';
import type { ResourceType } from './resources/types.js';

/** HOT versions Heat accepts, by date and by release alias. */
const VERSIONS: Record<string, string> = {
  '2013-05-23': '2013-05-23',
  '2014-10-16': '2014-10-16',
  '2015-04-30': '2015-04-30',
  '2015-10-15': '2015-10-15',
  '2016-04-08': '2016-04-08',
  '2016-10-14': '2016-10-14',
  newton: '2016-10-14',
  '2017-02-24': '2017-02-24',
  ocata: '2017-02-24',
  '2017-09-01': '2017-09-01',
  pike: '2017-09-01',
  '2018-03-02': '2018-03-02',
  queens: '2018-03-02',
  '2018-08-31': '2018-08-31',
  rocky: '2018-08-31',
  '2021-04-16': '2021-04-16',
  wallaby: '2021-04-16',
};

export type ParamType = 'string' | 'number' | 'json' | 'comma_delimited_list' | 'boolean';

export interface ParamDef {
  type: ParamType;
  description: string;
  label?: string;
  default?: unknown;
  hidden: boolean;
  constraints: Array<Record<string, unknown>>;
}

export interface ResourceDef {
  type: string;
  properties: Record<string, unknown>;
  dependsOn: string[];
  deletionPolicy: 'Delete' | 'Retain' | 'Snapshot';
  condition?: unknown;
}

export interface Template {
  version: string;
  description: string;
  parameters: Record<string, ParamDef>;
  conditions: Record<string, unknown>;
  resources: Record<string, ResourceDef>;
  outputs: Record<string, { value: unknown; description: string; condition?: unknown }>;
  /** As received (shown by GET .../template). */
  raw: Record<string, unknown>;
}

const invalid = (message: string) => new HeatError('StackValidationFailed', message);

function asMap(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`The template section is invalid: ${what}`);
  return v as Record<string, unknown>;
}

export function parseTemplate(input: unknown): Template {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = parseYaml(input);
    } catch (err) {
      throw invalid(`Error parsing template: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid('The template is not a JSON object or YAML mapping.');
  const t = raw as Record<string, unknown>;
  let version = t.heat_template_version;
  if (version instanceof Date) version = version.toISOString().slice(0, 10);
  if (version === undefined)
    throw new HeatError('InvalidTemplateVersion', 'Template format version not found.');
  const canonical = VERSIONS[String(version)];
  if (!canonical)
    throw new HeatError(
      'InvalidTemplateVersion',
      `The template version is invalid: "heat_template_version: ${String(version)}". "heat_template_version" should be one of: ${[...new Set(Object.keys(VERSIONS))].sort().join(', ')}`,
    );
  const known = new Set([
    'heat_template_version',
    'description',
    'parameter_groups',
    'parameters',
    'resources',
    'outputs',
    'conditions',
  ]);
  for (const k of Object.keys(t))
    if (!known.has(k)) throw invalid(`"${k}" is not a valid keyword inside a HOT template`);

  const parameters: Record<string, ParamDef> = {};
  for (const [name, v] of Object.entries(asMap(t.parameters, 'parameters'))) {
    const p = asMap(v, `parameters.${name}`);
    const type = String(p.type ?? '') as ParamType;
    if (!['string', 'number', 'json', 'comma_delimited_list', 'boolean'].includes(type))
      throw invalid(`Parameter '${name}' is invalid: Invalid type (${p.type ?? 'missing'})`);
    parameters[name] = {
      type,
      description: typeof p.description === 'string' ? p.description : '',
      label: typeof p.label === 'string' ? p.label : undefined,
      default: p.default,
      hidden: p.hidden === true || p.hidden === 'true',
      constraints: Array.isArray(p.constraints) ? (p.constraints as Array<Record<string, unknown>>) : [],
    };
  }

  const resources: Record<string, ResourceDef> = {};
  for (const [name, v] of Object.entries(asMap(t.resources, 'resources'))) {
    const r = asMap(v, `resources.${name}`);
    for (const k of Object.keys(r))
      if (
        ![
          'type',
          'properties',
          'depends_on',
          'deletion_policy',
          'metadata',
          'update_policy',
          'condition',
          'external_id',
        ].includes(k)
      )
        throw invalid(`"${k}" is not a valid keyword inside a resource definition`);
    if (typeof r.type !== 'string') throw invalid(`Resource ${name} is missing "type"`);
    const dependsOn =
      r.depends_on === undefined ? [] : Array.isArray(r.depends_on) ? r.depends_on : [r.depends_on];
    const policy = String(r.deletion_policy ?? 'Delete');
    const normalized = policy.charAt(0).toUpperCase() + policy.slice(1).toLowerCase();
    if (!['Delete', 'Retain', 'Snapshot'].includes(normalized))
      throw invalid(`Invalid deletion policy "${policy}"`);
    resources[name] = {
      type: r.type,
      properties: asMap(r.properties, `resources.${name}.properties`),
      dependsOn: dependsOn.map(String),
      deletionPolicy: normalized as ResourceDef['deletionPolicy'],
      condition: r.condition,
    };
  }

  const outputs: Template['outputs'] = {};
  for (const [name, v] of Object.entries(asMap(t.outputs, 'outputs'))) {
    const o = asMap(v, `outputs.${name}`);
    if (!('value' in o)) throw invalid(`Each output definition must contain a value key. (${name})`);
    outputs[name] = {
      value: o.value,
      description: typeof o.description === 'string' ? o.description : 'No description given',
      condition: o.condition,
    };
  }

  return {
    version: canonical,
    description: typeof t.description === 'string' ? t.description : 'No description',
    parameters,
    conditions: asMap(t.conditions, 'conditions'),
    resources,
    outputs,
    raw: t,
  };
}

function coerce(name: string, def: ParamDef, value: unknown): unknown {
  const bad = (why: string) => invalid(`Parameter '${name}' is invalid: ${why}`);
  switch (def.type) {
    case 'string':
      if (typeof value === 'object' && value !== null)
        throw bad(`Value must be a string; got ${JSON.stringify(value)}`);
      return String(value);
    case 'number': {
      const n = typeof value === 'number' ? value : Number(String(value).trim());
      if (String(value).trim() === '' || Number.isNaN(n))
        throw bad(`Value must be a number: could not convert "${value}"`);
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const s = String(value).toLowerCase();
      if (['true', 't', 'on', 'y', 'yes', '1'].includes(s)) return true;
      if (['false', 'f', 'off', 'n', 'no', '0'].includes(s)) return false;
      throw bad(
        `Unrecognized value "${value}", acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`,
      );
    }
    case 'comma_delimited_list':
      if (Array.isArray(value)) return value.map(String);
      return String(value) === ''
        ? []
        : String(value)
            .split(',')
            .map((s) => s.trim());
    case 'json':
      if (typeof value === 'string') {
        try {
          return JSON.parse(value);
        } catch {
          throw bad(`Value must be valid JSON`);
        }
      }
      return value;
  }
}

function checkConstraints(name: string, def: ParamDef, value: unknown): void {
  for (const c of def.constraints) {
    const fail = (msg: string) =>
      invalid(`Parameter '${name}' is invalid: ${typeof c.description === 'string' ? c.description : msg}`);
    if (Array.isArray(c.allowed_values) && !c.allowed_values.map(String).includes(String(value)))
      throw fail(`"${value}" is not an allowed value [${c.allowed_values.join(', ')}]`);
    if (c.range && typeof c.range === 'object') {
      const { min, max } = c.range as { min?: number; max?: number };
      const n = Number(value);
      if ((min !== undefined && n < min) || (max !== undefined && n > max))
        throw fail(`${value} is out of range (min: ${min ?? 'None'}, max: ${max ?? 'None'})`);
    }
    if (c.length && typeof c.length === 'object') {
      const { min, max } = c.length as { min?: number; max?: number };
      const len = Array.isArray(value) ? value.length : String(value).length;
      if ((min !== undefined && len < min) || (max !== undefined && len > max))
        throw fail(`length (${len}) is out of range (min: ${min ?? 'None'}, max: ${max ?? 'None'})`);
    }
    if (
      typeof c.allowed_pattern === 'string' &&
      !new RegExp(`^(?:${c.allowed_pattern})$`).test(String(value))
    )
      throw fail(`"${value}" does not match pattern "${c.allowed_pattern}"`);
  }
}

/**
 * The parameter values of a stack: given ones (coerced to their type and
 * checked against the constraints), defaults otherwise. With
 * `requireAll`, a parameter with neither is UserParameterMissing (stack
 * create/update); template-validate only checks the values it was given.
 */
export function resolveParameters(
  t: Template,
  given: Record<string, unknown>,
  requireAll: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(t.parameters)) {
    const raw = name in given ? given[name] : def.default;
    if (raw === undefined || raw === null) {
      if (requireAll)
        throw new HeatError('UserParameterMissing', `The Parameter (${name}) was not provided.`);
      continue;
    }
    const value = coerce(name, def, raw);
    checkConstraints(name, def, value);
    out[name] = value;
  }
  return out;
}

/** The conditions of the template evaluated with these parameter values. */
export function evaluateConditions(t: Template, params: Record<string, unknown>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const ctx = {
    param: (n: string) => params[n],
    condition: (n: string): boolean => {
      if (n in out) return out[n];
      if (!(n in t.conditions)) throw new HeatError('StackValidationFailed', `Invalid condition "${n}"`);
      out[n] = evaluateCondition(t.conditions[n], ctx);
      return out[n];
    },
  };
  for (const n of Object.keys(t.conditions)) ctx.condition(n);
  return out;
}

/**
 * Checks each resource against its type (known type, known properties,
 * required ones present) and every reference; returns the dependency graph
 * of the resources that exist under the conditions.
 */
export function validateResources(
  t: Template,
  types: Record<string, ResourceType>,
  conditions: Record<string, boolean> = {},
): DependencyGraph {
  const active = Object.entries(t.resources).filter(([, r]) => isActive(r.condition, conditions));
  const names = new Set(active.map(([n]) => n));
  const graph = new DependencyGraph(names);
  for (const [name, r] of active) {
    const type = types[r.type];
    if (!type)
      throw invalid(
        `Failed to validate: resources.${name}: The Resource Type (${r.type}) could not be found.`,
      );
    for (const p of Object.keys(r.properties))
      if (!(p in type.properties))
        throw invalid(`Property error: resources.${name}.properties: Unknown Property ${p}`);
    for (const [p, schema] of Object.entries(type.properties))
      if (schema.required && (r.properties[p] === undefined || r.properties[p] === null))
        throw invalid(`Property error: resources.${name}.properties: Property ${p} not assigned`);
    for (const ref of references(r.properties, `${name}.properties`)) {
      if (!names.has(ref.resource))
        throw new HeatError(
          'InvalidTemplateReference',
          `The specified reference "${ref.resource}" (in ${ref.path}) is incorrect.`,
        );
      graph.add(name, ref.resource);
    }
    for (const d of r.dependsOn) {
      if (!names.has(d))
        throw new HeatError(
          'InvalidTemplateReference',
          `The specified reference "${d}" (in ${name}) is incorrect.`,
        );
      graph.add(name, d);
    }
  }
  addImplicitDependencies(active, graph);
  // get_param of a parameter the template does not declare (pseudo parameters aside): Heat's GetParam
  // answers UserParameterMissing.
  const declared = (p: string) => p in t.parameters || p.startsWith('OS::');
  for (const value of [
    ...active.map(([, r]) => r.properties),
    ...Object.values(t.outputs).map((o) => o.value),
  ])
    for (const p of paramNames(value))
      if (!declared(p)) throw new HeatError('UserParameterMissing', `The Parameter (${p}) was not provided.`);
  for (const [name, o] of Object.entries(t.outputs))
    for (const ref of references(o.value, `outputs.${name}.value`))
      if (!(ref.resource in t.resources))
        throw new HeatError(
          'InvalidTemplateReference',
          `The specified reference "${ref.resource}" (in ${ref.path}) is incorrect.`,
        );
  graph.order();
  return graph;
}

export function isActive(condition: unknown, conditions: Record<string, boolean>): boolean {
  if (condition === undefined || condition === null) return true;
  if (typeof condition === 'boolean') return condition;
  if (typeof condition === 'string') return conditions[condition] ?? false;
  return true;
}

const TYPE_NAMES: Record<ParamType, string> = {
  string: 'String',
  number: 'Number',
  json: 'Json',
  comma_delimited_list: 'CommaDelimitedList',
  boolean: 'Boolean',
};

/** The `Parameters` of a template-validate answer, in Heat's CFN-style keys. */
export function describeParameters(t: Template, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(t.parameters)) {
    const d: Record<string, unknown> = {
      Type: TYPE_NAMES[def.type],
      Description: def.description,
      Label: def.label ?? name,
      NoEcho: def.hidden ? 'true' : 'false',
    };
    if (def.default !== undefined) d.Default = def.default;
    if (name in given) d.Value = given[name];
    for (const c of def.constraints) {
      if (Array.isArray(c.allowed_values)) d.AllowedValues = c.allowed_values;
      if (c.range && typeof c.range === 'object') {
        const r = c.range as { min?: number; max?: number };
        if (r.min !== undefined) d.MinValue = r.min;
        if (r.max !== undefined) d.MaxValue = r.max;
      }
      if (c.length && typeof c.length === 'object') {
        const l = c.length as { min?: number; max?: number };
        if (l.min !== undefined) d.MinLength = l.min;
        if (l.max !== undefined) d.MaxLength = l.max;
      }
      if (typeof c.allowed_pattern === 'string') d.AllowedPattern = c.allowed_pattern;
      if (typeof c.description === 'string') d.ConstraintDescription = c.description;
    }
    out[name] = d;
  }
  return out;
}

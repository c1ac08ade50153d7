/**
 * Dragon's default policy, declared in code as OpenStack services do: an
 * operator only writes the rules they change into policy.yaml, and
 * etc/dragon/policy.yaml.sample is generated from this list.
 *
 * Personas (docs/api-v1.md): a reader of the project may read its objects, a
 * member may also change them, an admin may do everything in every project.
 * Keystone tokens carry implied roles (member implies reader), but the rules
 * do not rely on it so that clouds without the implication keep working.
 */
import type { Operation, RuleDefault, ScopeType } from './types.js';

const PROJECT: readonly ScopeType[] = ['project'];
const ANY_SCOPE: readonly ScopeType[] = ['project', 'system'];

const READER = 'rule:project_reader_or_admin';
const MEMBER = 'rule:project_member_or_admin';
const ADMIN = 'rule:context_is_admin';

function base(name: string, checkString: string, description: string): RuleDefault {
  return { name, checkString, description, operations: [], scopeTypes: [] };
}

function api(
  name: string,
  checkString: string,
  description: string,
  operations: Operation[],
  scopeTypes: readonly ScopeType[],
): RuleDefault {
  return { name, checkString, description, operations, scopeTypes };
}

export const baseRules: readonly RuleDefault[] = [
  base(
    'context_is_admin',
    'role:admin',
    "Decides what is required for the 'is_admin:True' check to succeed.",
  ),
  base(
    'admin_or_owner',
    'is_admin:True or project_id:%(project_id)s',
    'Legacy rule: an administrator or any user of the owning project. Not used by the defaults; ' +
      'kept for policy files written for older services.',
  ),
  base('admin_api', 'role:admin', 'Default rule for administrative APIs.'),
  base('system_admin', 'role:admin and system_scope:all', 'An administrator with a system-scoped token.'),
  base('system_reader', 'role:reader and system_scope:all', 'A reader with a system-scoped token.'),
  base(
    'project_reader',
    'role:reader and project_id:%(project_id)s',
    'A reader of the project that owns the object.',
  ),
  base(
    'project_member',
    'role:member and project_id:%(project_id)s',
    'A member of the project that owns the object.',
  ),
  base(
    'project_reader_or_admin',
    'rule:project_reader or rule:project_member or rule:context_is_admin',
    'A reader or member of the owning project, or an administrator.',
  ),
  base(
    'project_member_or_admin',
    'rule:project_member or rule:context_is_admin',
    'A member of the owning project, or an administrator.',
  ),
  base(
    'any_reader',
    'role:reader or role:member or role:admin',
    'Any caller with a reader, member or admin role, whatever project they are in.',
  ),
];

const POLICY = '/v1/policies/{id}';
const RESOURCE = '/v1/policies/{id}/resources/{resource_id}';

export const apiRules: readonly RuleDefault[] = [
  api(
    'dragon:action:list',
    'rule:any_reader',
    'List the loaded protection actions and their option schemas.',
    [{ method: 'GET', path: '/v1/actions' }],
    ANY_SCOPE,
  ),
  api(
    'dragon:action:get',
    'rule:any_reader',
    'Show one protection action.',
    [{ method: 'GET', path: '/v1/actions/{name}' }],
    ANY_SCOPE,
  ),
  api(
    'dragon:policy:list',
    READER,
    'List the workload policies of the project.',
    [{ method: 'GET', path: '/v1/policies' }],
    PROJECT,
  ),
  api(
    'dragon:policy:create',
    MEMBER,
    'Create a workload policy.',
    [{ method: 'POST', path: '/v1/policies' }],
    PROJECT,
  ),
  api('dragon:policy:get', READER, 'Show a workload policy.', [{ method: 'GET', path: POLICY }], PROJECT),
  api(
    'dragon:policy:update',
    MEMBER,
    'Change the name, description or backup site of a workload policy.',
    [{ method: 'PATCH', path: POLICY }],
    PROJECT,
  ),
  api(
    'dragon:policy:delete',
    MEMBER,
    'Delete a workload policy.',
    [{ method: 'DELETE', path: POLICY }],
    PROJECT,
  ),
  api(
    'dragon:policy:resource:list',
    READER,
    'List the resources a workload policy protects.',
    [{ method: 'GET', path: `${POLICY}/resources` }],
    PROJECT,
  ),
  api(
    'dragon:policy:resource:add',
    MEMBER,
    'Add a resource and its protection action to a workload policy.',
    [{ method: 'POST', path: `${POLICY}/resources` }],
    PROJECT,
  ),
  api(
    'dragon:policy:resource:get',
    READER,
    'Show a resource of a workload policy.',
    [{ method: 'GET', path: RESOURCE }],
    PROJECT,
  ),
  api(
    'dragon:policy:resource:update',
    MEMBER,
    'Change the action or options of a resource of a workload policy.',
    [{ method: 'PATCH', path: RESOURCE }],
    PROJECT,
  ),
  api(
    'dragon:policy:resource:remove',
    MEMBER,
    'Remove a resource from a workload policy.',
    [{ method: 'DELETE', path: RESOURCE }],
    PROJECT,
  ),
  api(
    'dragon:policy:protect',
    MEMBER,
    'Trigger a workload policy: start an execution that makes a checkpoint.',
    [{ method: 'POST', path: `${POLICY}/protect` }],
    PROJECT,
  ),
  api(
    'dragon:checkpoint:list',
    READER,
    'List the checkpoints of the project.',
    [{ method: 'GET', path: '/v1/checkpoints' }],
    PROJECT,
  ),
  api(
    'dragon:checkpoint:get',
    READER,
    'Show a checkpoint.',
    [{ method: 'GET', path: '/v1/checkpoints/{checkpoint_id}' }],
    PROJECT,
  ),
  api(
    'dragon:checkpoint:delete',
    MEMBER,
    'Delete a checkpoint: its container in the bank and what its actions created.',
    [{ method: 'DELETE', path: '/v1/checkpoints/{checkpoint_id}' }],
    PROJECT,
  ),
  api(
    'dragon:checkpoint:verify',
    MEMBER,
    'Re-read every object of a checkpoint and compare its SHA-256 with the manifest.',
    [{ method: 'POST', path: '/v1/checkpoints/{checkpoint_id}/verify' }],
    PROJECT,
  ),
  api(
    'dragon:checkpoint:list_bank',
    READER,
    "List the checkpoints found in a site's bank (Swift), without the database: what recovery can use.",
    [{ method: 'GET', path: '/v1/checkpoints?source=bank' }],
    PROJECT,
  ),
  api(
    'dragon:recovery:list',
    READER,
    'List the recoveries of the project.',
    [{ method: 'GET', path: '/v1/recoveries' }],
    PROJECT,
  ),
  api(
    'dragon:recovery:get',
    READER,
    'Show a recovery: its plan, the old-to-new id map, RTO, RPO and checks.',
    [{ method: 'GET', path: '/v1/recoveries/{recovery_id}' }],
    PROJECT,
  ),
  api(
    'dragon:recovery:create',
    MEMBER,
    'Recover a checkpoint at a site (or plan it with dry_run, or run a DR drill).',
    [{ method: 'POST', path: '/v1/recoveries' }],
    PROJECT,
  ),
  api(
    'dragon:recovery:cancel',
    MEMBER,
    'Cancel a running recovery (what it created is removed).',
    [{ method: 'POST', path: '/v1/recoveries/{recovery_id}/cancel' }],
    PROJECT,
  ),
  api(
    'dragon:recovery:delete',
    MEMBER,
    'Delete a recovery and tear down what it created at the site (stack, volumes, images).',
    [{ method: 'DELETE', path: '/v1/recoveries/{recovery_id}' }],
    PROJECT,
  ),
  api(
    'dragon:recovery:failback_policy',
    MEMBER,
    'Create a workload policy protecting the recovered workload back to its original site.',
    [{ method: 'POST', path: '/v1/recoveries/{recovery_id}/failback-policy' }],
    PROJECT,
  ),
  api(
    'dragon:execution:list',
    READER,
    'List the executions of the project.',
    [{ method: 'GET', path: '/v1/executions' }],
    PROJECT,
  ),
  api(
    'dragon:execution:get',
    READER,
    'Show an execution and its steps.',
    [{ method: 'GET', path: '/v1/executions/{id}' }],
    PROJECT,
  ),
  api(
    'dragon:execution:cancel',
    MEMBER,
    'Cancel a pending or running execution.',
    [{ method: 'POST', path: '/v1/executions/{id}/cancel' }],
    PROJECT,
  ),
  api(
    'dragon:site:list',
    READER,
    "List the sites of the operator's cloud and the project's registered sites.",
    [{ method: 'GET', path: '/v1/sites' }],
    PROJECT,
  ),
  api('dragon:site:get', READER, 'Show a site.', [{ method: 'GET', path: '/v1/sites/{name}' }], PROJECT),
  api(
    'dragon:site:create',
    MEMBER,
    'Register a site in another cloud with an application credential of that cloud.',
    [{ method: 'POST', path: '/v1/sites' }],
    PROJECT,
  ),
  api(
    'dragon:site:delete',
    MEMBER,
    "Remove a project's registered site.",
    [{ method: 'DELETE', path: '/v1/sites/{name}' }],
    PROJECT,
  ),
  api(
    'dragon:protectable:list',
    READER,
    "List the project's servers and volumes at a site, with what each depends on.",
    [{ method: 'GET', path: '/v1/protectables' }],
    PROJECT,
  ),
  api(
    'dragon:service:list',
    ADMIN,
    'List the dragon-engine services and whether they are up.',
    [{ method: 'GET', path: '/v1/services' }],
    ANY_SCOPE,
  ),
  api(
    'dragon:healthcheck:detail',
    ADMIN,
    'Show the state of the database and messaging in the health check.',
    [{ method: 'GET', path: '/healthcheck?detail=true' }],
    ANY_SCOPE,
  ),
  api(
    'dragon:all_projects',
    ADMIN,
    'List the objects of every project (all_projects=true), optionally filtered by project_id.',
    [
      { method: 'GET', path: '/v1/policies?all_projects=true' },
      { method: 'GET', path: '/v1/executions?all_projects=true' },
    ],
    ANY_SCOPE,
  ),
];

/** Every rule Dragon registers, in the order of the sample file. */
export const dragonDefaults: readonly RuleDefault[] = [...baseRules, ...apiRules];

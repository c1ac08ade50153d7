/**
 * OS::Heat::None (does nothing) and OS::Heat::TestResource (Heat's own
 * failure-injection resource: `fail: true` fails the create, `wait_secs`
 * delays it, `value` comes back as the `output` attribute).
 */
import { pause, ResourceFailure, type ResourceType } from './types.js';

export const none: ResourceType = {
  properties: new Proxy({}, { has: () => true }) as ResourceType['properties'],
  async create(ctx) {
    return `${ctx.stackName}-${ctx.name}`;
  },
  async delete() {},
};

export const testResource: ResourceType = {
  properties: {
    value: {},
    fail: {},
    wait_secs: {},
    action_wait_secs: {},
    attr_wait_secs: {},
    client_name: {},
    entity_name: {},
    update_replace: {},
    update_replace_value: {},
    constraint_prop_secs: {},
  },
  async create(ctx, props) {
    const wait = Number(props.wait_secs ?? 0);
    if (wait > 0) await pause(wait * 1000, ctx.signal);
    if (props.fail === true || props.fail === 'true')
      throw new ResourceFailure('Error', `Test Resource failed ${ctx.name}`);
    return `${ctx.stackName}-${ctx.name}`;
  },
  async delete() {},
  async attribute(_ctx, _id, name, props) {
    return name === 'output' ? (props.value ?? '') : undefined;
  },
};

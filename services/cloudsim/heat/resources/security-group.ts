/**
 * OS::Neutron::SecurityGroup — POST /v2.0/security-groups, then one POST
 * /v2.0/security-group-rules per rule. Like Heat, when rules are given the
 * default egress rules Neutron added are replaced by the template's egress
 * rules if the template has any.
 */
import { neutronDelete, neutronGone, neutronShow } from './neutron-common.js';
import { physicalName, type ResourceType } from './types.js';

export const securityGroup: ResourceType = {
  properties: { name: {}, description: {}, rules: {}, tags: {} },
  async create(ctx, props) {
    const sg = await ctx.api.call<{
      security_group: { id: string; security_group_rules?: Array<{ id: string; direction: string }> };
    }>('network', 'POST', '/security-groups', {
      security_group: { name: physicalName(ctx, props.name), description: props.description ?? '' },
    });
    const id = sg.body.security_group.id;
    const rules = Array.isArray(props.rules) ? (props.rules as Array<Record<string, unknown>>) : [];
    if (rules.some((r) => r.direction === 'egress'))
      for (const r of sg.body.security_group.security_group_rules ?? [])
        if (r.direction === 'egress')
          await ctx.api.call('network', 'DELETE', `/security-group-rules/${r.id}`, undefined, [404]);
    for (const r of rules) {
      const rule: Record<string, unknown> = {
        security_group_id: id,
        direction: r.direction ?? 'ingress',
        ethertype: r.ethertype ?? 'IPv4',
      };
      for (const k of ['port_range_min', 'port_range_max', 'protocol', 'remote_ip_prefix', 'remote_group_id'])
        if (r[k] !== undefined && r[k] !== null) rule[k] = r[k];
      if (r.remote_mode === 'remote_group_id' && !rule.remote_group_id) rule.remote_group_id = id;
      await ctx.api.call('network', 'POST', '/security-group-rules', { security_group_rule: rule }, [409]);
    }
    return id;
  },
  delete: (ctx, id) => neutronDelete(ctx, 'security-groups', id),
  checkDeleteComplete: (ctx, id) => neutronGone(ctx, 'security-groups', id),
  show: (ctx, id) => neutronShow(ctx, 'security-groups', 'security_group', id),
};

/** The `[oslo_policy]` options, named and defaulted as oslo.policy's so existing dragon.conf habits carry over. */
import { bool, defineGroup, str } from '../../common/config/types.js';

export const policyOpts = defineGroup('oslo_policy', 'Role-based access control of the REST API.', {
  policy_file: str(
    'policy.yaml',
    'The file with policy rules overriding the defaults (YAML or JSON). A relative path is looked ' +
      'for next to the config files, then in /etc/dragon, then in the working directory. The file ' +
      'may be absent; it is re-read when it changes.',
  ),
  enforce_scope: bool(
    false,
    'Deny a request (403) whose token scope (project or system) is not among the intended scopes of ' +
      'the rule checked. When false, such requests are only logged.',
  ),
  enforce_new_defaults: bool(
    true,
    'Use only the new default rules. When false, a deprecated default rule still grants access ' +
      'alongside its replacement, to ease upgrades.',
  ),
});

/**
 * Built-in actions: steps Dragon itself runs inside an execution (the
 * template, the manifest, a recovery's plan and stack, ...), registered
 * beside the plugins so the executor treats every step alike. They are not
 * listed as actions a policy can use.
 */
import type { ActionPlugin } from './plugin-api.js';
import type { LoadedPlugin } from './plugins/loader.js';

export function builtin(name: string, description: string, impl: ActionPlugin): LoadedPlugin {
  return {
    manifest: {
      name,
      resource_type: 'Dragon::Builtin',
      version: '1',
      description,
      options_schema: {},
      entry: '',
    },
    dir: '(built in)',
    impl,
  };
}

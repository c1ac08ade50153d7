/**
 * `[keystone_authtoken]`: how dragon-api validates tokens, named and
 * defaulted like keystonemiddleware's options so operators can copy the
 * section from nova.conf or cinder.conf.
 */
import { bool, choice, defineGroup, type GroupValues, int, list, str } from '../../common/config/types.js';

export const keystoneAuthtokenOpts = defineGroup(
  'keystone_authtoken',
  'Keystone token validation of dragon-api (keystonemiddleware semantics) and the service user it validates with.',
  {
    auth_url: str('', "Keystone URL Dragon's service user authenticates against (http://keystone:5000/v3)."),
    www_authenticate_uri: str(
      '',
      'Keystone URL clients are told to authenticate at, in the WWW-Authenticate header of a 401. ' +
        'Empty means auth_url.',
    ),
    username: str('dragon', "Name of Dragon's service user, which validates tokens and holds trusts."),
    password: str('', "Password of Dragon's service user.", { secret: true }),
    project_name: str('service', 'Project the service user scopes its token to.'),
    user_domain_name: str('Default', 'Domain of the service user.'),
    project_domain_name: str('Default', 'Domain of project_name.'),
    region_name: str(
      '',
      'Region whose identity endpoint validates tokens. Empty means any (the single one).',
    ),
    interface: choice(
      'internal',
      ['public', 'internal', 'admin'] as const,
      'Catalog interface of the identity endpoint used for validation.',
    ),
    token_cache_time: int(
      300,
      'Seconds a validation result is cached, never past the token expiry. 0 disables the cache; a ' +
        'revoked token stays accepted for at most this long.',
      { min: 0 },
    ),
    jws_public_key_repository: str(
      '',
      "Directory with Keystone's JWS public keys (*.pem, Keystone's [jwt_tokens] " +
        'jws_public_key_repository). When set, JWS tokens with a bad signature or past their expiry are ' +
        'refused without asking Keystone. Empty disables the offline check.',
    ),
    http_connect_timeout: int(10, 'Seconds to wait for Keystone to answer a validation request.', { min: 1 }),
    http_request_max_retries: int(2, 'Retries of a validation request after a connection error or 5xx.', {
      min: 0,
      max: 10,
    }),
    service_token_roles: list(
      ['service'],
      'An X-Service-Token counts as a service token when it has at least one of these roles.',
    ),
    service_token_roles_required: bool(
      false,
      'Refuse a request whose X-Service-Token lacks all service_token_roles (otherwise only logged).',
    ),
    cafile: str('', 'PEM CA bundle for verifying Keystone over HTTPS. Empty means the system CAs.'),
    insecure: bool(false, 'Do not verify Keystone TLS certificates (testing only).'),
  },
);

export type KeystoneAuthtokenConf = GroupValues<typeof keystoneAuthtokenOpts.opts>;

/** The option values with their defaults, for callers building the middleware without a Config. */
export function authtokenDefaults(overrides: Partial<KeystoneAuthtokenConf> = {}): KeystoneAuthtokenConf {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(keystoneAuthtokenOpts.opts))
    out[name] = structuredClone(def.default);
  return { ...(out as KeystoneAuthtokenConf), ...overrides };
}

import { bool, defineGroup, int, list } from '../common/config/types.js';

/**
 * Cross-origin resource sharing for browsers (the dashboard served from
 * another origin), with oslo.middleware's option names so operators can
 * reuse their `[cors]` sections.
 */
export const corsOpts = defineGroup('cors', 'Cross-origin resource sharing for the REST API.', {
  allowed_origin: list(
    [],
    'Origins allowed to call the API from a browser (https://dashboard.example.com), or * for any. ' +
      'Empty disables CORS.',
  ),
  allow_credentials: bool(true, 'Whether the browser may send cookies and credentials with the request.'),
  allow_methods: list(['GET', 'PUT', 'POST', 'DELETE', 'PATCH'], 'Methods a cross-origin request may use.'),
  allow_headers: list(
    ['Content-Type', 'X-Auth-Token', 'X-OpenStack-Request-ID', 'OpenStack-API-Version'],
    'Request headers a cross-origin request may send.',
  ),
  expose_headers: list(
    ['X-OpenStack-Request-ID', 'OpenStack-API-Version', 'Location'],
    'Response headers a browser script may read.',
  ),
  max_age: int(3600, 'Seconds a browser may cache the answer to a preflight request.', { min: 0 }),
});

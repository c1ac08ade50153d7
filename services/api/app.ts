/**
 * The dragon-api express application. Order matters: the request id comes
 * first so every later answer (errors, 404s, refused preflights) carries it;
 * CORS answers preflights before anything needs credentials; microversion
 * and body checks run before authentication so malformed requests fail
 * cheaply; everything under /v1 except the version document authenticates.
 */
import express from 'express';
import { corsOpts } from '../common/config/index.js';
import type { ApiDeps } from './deps.js';
import { accessLog } from './middleware/access-log.js';
import { jsonBody } from './middleware/body.js';
import { cors } from './middleware/cors.js';
import { errorHandler, notFound } from './middleware/errors.js';
import { microversion } from './middleware/microversion.js';
import { requestId } from './middleware/request-id.js';
import { actionRoutes } from './routes/actions.js';
import { checkpointRoutes } from './routes/checkpoints.js';
import { executionRoutes } from './routes/executions.js';
import { healthcheck } from './routes/healthcheck.js';
import { policyRoutes } from './routes/policies.js';
import { protectableRoutes } from './routes/protectables.js';
import { recoveryRoutes } from './routes/recoveries.js';
import { resourceRoutes } from './routes/resources.js';
import { serviceRoutes } from './routes/services.js';
import { siteRoutes } from './routes/sites.js';
import { listVersions, showVersion } from './routes/versions.js';
import { route } from './routing.js';

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(requestId());
  app.use(accessLog());
  app.use(cors(deps.conf.get(corsOpts)));
  app.use(microversion());
  app.use(jsonBody());

  route(app, '/', { get: listVersions });
  route(app, '/v1', { get: showVersion });
  route(app, '/healthcheck', { get: healthcheck(deps) });

  const v1 = express.Router();
  v1.use(deps.authenticate);
  v1.use(actionRoutes(deps));
  v1.use(policyRoutes(deps));
  v1.use(resourceRoutes(deps));
  v1.use(executionRoutes(deps));
  v1.use(checkpointRoutes(deps));
  v1.use(recoveryRoutes(deps));
  v1.use(serviceRoutes(deps));
  v1.use(siteRoutes(deps));
  v1.use(protectableRoutes(deps));
  app.use('/v1', v1);

  app.use(notFound());
  app.use(errorHandler());
  return app;
}

/**
 * What the API needs from the rest of the process. The lead wires the real
 * Keystone middleware and oslo.policy enforcer; tests inject fakes. Keeping
 * them as parameters lets the app be built without any global state.
 */
import type express from 'express';
import type { Knex } from 'knex';
import type { Config } from '../common/config/index.js';
import type { RequestContext } from '../common/context.js';
import type { Transport } from '../common/rpc/types.js';
import './auth/types.js';

export interface PolicyEnforcer {
  /** Throws DragonError(403) when `rule` denies `ctx` on `target`. */
  authorize(rule: string, target: Record<string, unknown>, ctx: RequestContext): void;
  /** The same check as a boolean, for optional behaviour (detail, all_projects). */
  enforce(rule: string, target: Record<string, unknown>, ctx: RequestContext): boolean;
}

export interface ApiDeps {
  conf: Config;
  db: Knex;
  transport: Transport;
  /** Sets `req.context` or fails with DragonError 401/503. */
  authenticate: express.RequestHandler;
  enforcer: PolicyEnforcer;
  /** Dragon's release, reported by the version document's neighbours and logs. */
  version: string;
}

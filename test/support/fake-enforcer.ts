/**
 * The default personas of api-v1.md as a tiny enforcer, for API tests until
 * the oslo.policy one is swapped in: reader may GET its project's objects,
 * member may also write, admin may do everything anywhere.
 */
import type { PolicyEnforcer } from '../../services/api/deps.js';
import type { RequestContext } from '../../services/common/context.js';
import { DragonError } from '../../services/common/errors.js';

const ADMIN_ONLY = new Set(['dragon:all_projects', 'dragon:service:list', 'dragon:healthcheck:detail']);

export class FakeEnforcer implements PolicyEnforcer {
  /** Every rule name checked, in order: lets tests assert the documented rule was used. */
  readonly checked: string[] = [];

  enforce(rule: string, target: Record<string, unknown>, ctx: RequestContext): boolean {
    this.checked.push(rule);
    if (ctx.roles.includes('admin')) return true;
    if (ADMIN_ONLY.has(rule)) return false;
    const ownProject =
      target.project_id === undefined || target.project_id === null || target.project_id === ctx.projectId;
    if (!ownProject) return false;
    const read = /:(list|get)$/.test(rule);
    if (read) return ctx.roles.includes('reader') || ctx.roles.includes('member');
    return ctx.roles.includes('member');
  }

  authorize(rule: string, target: Record<string, unknown>, ctx: RequestContext): void {
    if (!this.enforce(rule, target, ctx))
      throw new DragonError(403, `Policy doesn't allow ${rule} to be performed.`);
  }
}

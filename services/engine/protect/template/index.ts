/**
 * The template of a workload: reads the policy's resources at the primary
 * site and writes the HOT template that rebuilds them elsewhere (issue 6).
 */
import type { SiteClients } from '../../plugin-api.js';
import { type BuildOptions, buildTemplate, type WorkloadTemplate } from './build.js';
import { collectWorkload, type PolicyResource } from './collect.js';

export type {
  BuildOptions,
  GraphNode,
  TemplateParameter,
  TemplateVolume,
  WorkloadTemplate,
} from './build.js';
export { HEAT_TEMPLATE_VERSION } from './build.js';
export type { PolicyResource } from './collect.js';

/** Reads the workload at the primary site and writes its template. Same workload, same bytes. */
export async function buildWorkloadTemplate(
  resources: PolicyResource[],
  primary: SiteClients,
  opts: BuildOptions = {},
): Promise<WorkloadTemplate> {
  return buildTemplate(await collectWorkload(resources, primary), opts);
}

/** The primary's value of every parameter: what to validate the template with. */
export function primaryParameterValues(t: WorkloadTemplate): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(t.parameters).map(([k, p]) => [k, p.primary_value]));
}

/**
 * Heat's `template validate` at a site (the backup site at protect time), with
 * the given parameters or else the primary's values. Throws Heat's 400 on an invalid template.
 */
export async function validateWorkloadTemplate(
  t: WorkloadTemplate,
  site: SiteClients,
  parameters: Record<string, unknown> = primaryParameterValues(t),
) {
  return site.heat.validate(t.template, { parameters });
}

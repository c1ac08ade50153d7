/** The answer to a request that starts long work: 202, the execution's Location, and the body. */
import type { Request, Response } from 'express';
import { announceExecution } from '../engine/service.js';
import { contextOf } from './context.js';
import type { ApiDeps } from './deps.js';
import { baseUrl } from './urls.js';

/** Announces the execution (a lost announcement is found by the engines' sweep) and answers 202. */
export async function accepted(
  deps: ApiDeps,
  req: Request,
  res: Response,
  executionId: string,
  body: Record<string, unknown>,
): Promise<void> {
  await announceExecution(deps.transport, executionId, contextOf(req).requestId);
  res
    .status(202)
    .location(`${baseUrl(req)}/v1/executions/${executionId}`)
    .json({ ...body, execution_id: executionId });
}

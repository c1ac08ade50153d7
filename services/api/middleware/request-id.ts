/**
 * oslo.middleware's request_id: every request gets `req-<uuid>`, sent back in
 * `x-openstack-request-id` on every response (errors and 404s included) so a
 * user can quote it and an operator can grep for it. A valid incoming
 * X-OpenStack-Request-ID from another service is kept as the global request
 * id, which ties one user action together across services.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

export const REQUEST_ID_HEADER = 'x-openstack-request-id';
const GLOBAL_ID = /^req-[0-9a-f-]{36}$/;

export function requestId(): RequestHandler {
  return (req, res, next) => {
    const id = `req-${randomUUID()}`;
    res.locals.requestId = id;
    const incoming = req.get(REQUEST_ID_HEADER);
    if (incoming && GLOBAL_ID.test(incoming)) res.locals.globalRequestId = incoming;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}

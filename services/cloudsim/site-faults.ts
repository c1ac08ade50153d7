/**
 * The fault-injection point of a site: a whole-site outage (every API of the
 * site drops connections — the disaster), per-service latency and error
 * rates, and statuses that get stuck. Tests and the admin endpoint flip these.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface ServiceFault {
  /** Added before every answer. */
  latencyMs?: number;
  /** Probability (0-1) of answering 503 instead. */
  errorRate?: number;
  /** The next N requests answer 503 (a burst). */
  errorBurst?: number;
  /** Only requests whose method matches (e.g. 'POST'); default all. */
  methods?: string[];
}

export class SiteFaults {
  /** The whole site is down: connections are reset. */
  outage = false;
  readonly services = new Map<string, ServiceFault>();
  /** Resource ids whose status must not progress (e.g. a server stuck in BUILD). */
  readonly stuck = new Set<string>();

  set(service: string, fault: ServiceFault | undefined): void {
    if (fault) this.services.set(service, { ...fault });
    else this.services.delete(service);
  }

  clear(): void {
    this.outage = false;
    this.services.clear();
    this.stuck.clear();
  }

  snapshot() {
    return { outage: this.outage, services: Object.fromEntries(this.services), stuck: [...this.stuck] };
  }
}

/** Mounted first on every service of the site. Also sets the request id header every OpenStack API returns. */
export function siteFaultMiddleware(faults: SiteFaults, service: string): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (faults.outage) {
      req.socket.destroy();
      return;
    }
    const id = `req-${randomUUID()}`;
    res.set('x-openstack-request-id', id);
    res.set('x-compute-request-id', id);
    const f = faults.services.get(service);
    if (f && (!f.methods || f.methods.includes(req.method))) {
      if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));
      const burst = (f.errorBurst ?? 0) > 0;
      if (burst) f.errorBurst = (f.errorBurst ?? 1) - 1;
      if (burst || (f.errorRate && Math.random() < f.errorRate)) {
        res
          .status(503)
          .json({ error: { code: 503, title: 'Service Unavailable', message: 'injected fault' } });
        return;
      }
    }
    next();
  };
}

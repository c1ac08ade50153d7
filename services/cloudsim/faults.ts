/**
 * The one fault-injection point of the simulator. Every simulated service
 * mounts `faults.middleware()` first, so a test can take a service "down"
 * (connections reset, like a dead uwsgi) or make it answer 503 (like a
 * proxy in front of a dead backend) without stopping the listener.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export type DownMode = 'reset' | '503';

export class FaultSwitch {
  #down: DownMode | undefined;

  /** `true` or 'reset' destroys every connection; '503' answers Service Unavailable; `false` heals. */
  setDown(down: boolean | DownMode): void {
    this.#down = down === true ? 'reset' : down === false ? undefined : down;
  }

  get down(): DownMode | undefined {
    return this.#down;
  }

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (this.#down === 'reset') {
        req.socket.destroy();
        return;
      }
      if (this.#down === '503') {
        res.status(503).json({
          error: { code: 503, title: 'Service Unavailable', message: 'The service is unavailable.' },
        });
        return;
      }
      next();
    };
  }
}

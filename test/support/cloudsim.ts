/**
 * Test helper for the simulator's fault endpoint (`/sim/faults/<region>`):
 * an admin session of the simulated Keystone and typed calls to switch
 * outages, latency, error bursts and stuck statuses on and off.
 */
import type { FaultsBody } from '../../services/cloudsim/admin-api.js';
import { KeystoneSession } from '../../services/common/openstack/session.js';

export class CloudSimFaults {
  readonly #session: KeystoneSession;

  /** `keystoneUrl`: the Keystone whose admin (admin/ADMIN_PASS) the endpoint accepts. */
  constructor(
    readonly adminUrl: string,
    keystoneUrl: string,
    admin = { userName: 'admin', password: 'ADMIN_PASS', projectName: 'admin' },
  ) {
    this.#session = new KeystoneSession({
      authUrl: keystoneUrl,
      auth: {
        type: 'password',
        username: admin.userName,
        password: admin.password,
        userDomainName: 'Default',
      },
      scope: { projectName: admin.projectName, projectDomainName: 'Default' },
    });
  }

  get(region: string): Promise<Required<FaultsBody>> {
    return this.#session.requestJson('GET', `${this.adminUrl}/sim/faults/${region}`, {
      serviceName: 'cloudsim',
    });
  }

  /** Replaces the region's faults. */
  set(region: string, faults: FaultsBody): Promise<Required<FaultsBody>> {
    return this.#session.requestJson('PUT', `${this.adminUrl}/sim/faults/${region}`, {
      serviceName: 'cloudsim',
      json: faults,
    });
  }

  async clear(region: string): Promise<void> {
    await this.#session.request('DELETE', `${this.adminUrl}/sim/faults/${region}`, {
      serviceName: 'cloudsim',
    });
  }

  /** Runs `fn` with the faults set, clearing them afterwards whatever happens. */
  async with<T>(region: string, faults: FaultsBody, fn: () => Promise<T>): Promise<T> {
    await this.set(region, faults);
    try {
      return await fn();
    } finally {
      await this.clear(region);
    }
  }

  close(): Promise<void> {
    return this.#session.close();
  }
}

/**
 * A Swift client for a container in another project's account: the backup
 * site may read a checkpoint with other credentials (another project), which
 * the container's read ACL allows; the requests then go to the owner's
 * account URL with the reader's token.
 */
import type { KeystoneSession } from '../../common/openstack/session.js';
import { SwiftClient, type SwiftClientOptions } from '../../common/openstack/swift.js';

class AccountSwiftClient extends SwiftClient {
  readonly #account: string;
  constructor(session: KeystoneSession, account: string, opts: SwiftClientOptions) {
    super(session, opts);
    this.#account = account;
  }

  /** The catalog's object-store URL with its `AUTH_<project>` part swapped for the owner's account. */
  override async accountUrl(): Promise<string> {
    const own = await super.accountUrl();
    const i = own.lastIndexOf('/v1/');
    if (i < 0) throw new Error(`bank: object-store endpoint ${own} has no /v1/<account> part`);
    return `${own.slice(0, i)}/v1/${this.#account}`;
  }
}

/** `account` is `AUTH_<project id>` or a bare project id (the reseller prefix is then `AUTH_`). */
export function swiftForAccount(
  session: KeystoneSession,
  account: string,
  opts: SwiftClientOptions = {},
): SwiftClient {
  const full = /^[A-Z]+_/.test(account) ? account : `AUTH_${account}`;
  return new AccountSwiftClient(session, full, opts);
}

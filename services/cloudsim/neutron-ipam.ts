/**
 * IPv4 address management for the simulated Neutron: CIDR parsing, the
 * default gateway and allocation pool Neutron derives from a CIDR, and the
 * lowest free address of a subnet's pools (Neutron's built-in IPAM hands out
 * addresses in order too, which keeps tests readable).
 */

export interface AllocationPool {
  start: string;
  end: string;
}

export interface Cidr {
  network: number;
  prefix: number;
  broadcast: number;
}

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `10.0.0.0/24` → network, prefix, broadcast; undefined when not IPv4 CIDR. Host bits are masked like Neutron does. */
export function parseCidr(cidr: string): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) return undefined;
  const ip = ipToInt(m[1]);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix < 8 || prefix > 30) return undefined;
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ip / size) * size;
  return { network, prefix, broadcast: network + size - 1 };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.network)}/${c.prefix}`;
}

export function inCidr(c: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n !== undefined && n > c.network && n < c.broadcast;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}

/** Neutron's default: the pool is the whole range minus network, broadcast and the gateway. */
export function defaultPools(c: Cidr, gateway: string | null): AllocationPool[] {
  const gw = gateway ? ipToInt(gateway) : undefined;
  const first = c.network + 1;
  const last = c.broadcast - 1;
  if (gw === first) return [{ start: intToIp(first + 1), end: intToIp(last) }];
  if (gw === last) return [{ start: intToIp(first), end: intToIp(last - 1) }];
  if (gw !== undefined && gw > first && gw < last)
    return [
      { start: intToIp(first), end: intToIp(gw - 1) },
      { start: intToIp(gw + 1), end: intToIp(last) },
    ];
  return [{ start: intToIp(first), end: intToIp(last) }];
}

export function inPools(pools: AllocationPool[], ip: string): boolean {
  const n = ipToInt(ip);
  if (n === undefined) return false;
  return pools.some((p) => n >= (ipToInt(p.start) ?? 0) && n <= (ipToInt(p.end) ?? -1));
}

/** The lowest address of the pools not in `used`, or undefined when the subnet is full. */
export function nextFree(pools: AllocationPool[], used: Set<string>): string | undefined {
  for (const p of pools) {
    const end = ipToInt(p.end) ?? -1;
    for (let n = ipToInt(p.start) ?? end + 1; n <= end; n++) {
      const ip = intToIp(n);
      if (!used.has(ip)) return ip;
    }
  }
  return undefined;
}

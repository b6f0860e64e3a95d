import { isIPv4, isIPv6 } from 'node:net';

/**
 * Open connections per client address, refused past a cap: one host cannot
 * hold every socket the daemon has. Addresses are grouped as a network
 * assigns them: an IPv4 address (also written IPv4-mapped, `::ffff:a.b.c.d`)
 * is its own group, an IPv6 address counts with its /64, since one host
 * usually has a whole /64 to pick source addresses from (RFC 4291 §2.5.1,
 * RFC 8981).
 */
export class AddressLimit {
  readonly #open = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Takes a place for `group` (see addressGroup); false when it holds `max` already. */
  tryTake(group: string): boolean {
    const n = this.#open.get(group) ?? 0;
    if (n >= this.max) return false;
    this.#open.set(group, n + 1);
    return true;
  }

  /** Gives back a place tryTake gave. */
  release(group: string): void {
    const n = this.#open.get(group) ?? 0;
    if (n <= 1) this.#open.delete(group);
    else this.#open.set(group, n - 1);
  }

  /** Places held by `group`. */
  held(group: string): number {
    return this.#open.get(group) ?? 0;
  }
}

/** The group a remote address counts in: `a.b.c.d`, or `x:x:x:x::/64`; `unknown` for a socket already gone. */
export function addressGroup(remote: string | undefined): string {
  if (remote === undefined) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remote);
  if (mapped !== null && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(remote)) return remote;
  const bare = remote.split('%')[0]!;
  if (!isIPv6(bare)) return remote;
  const groups = expandIPv6(bare);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6(addr: string): string[] {
  const split = (part: string): string[] => (part === '' ? [] : part.split(':'));
  // An embedded IPv4 tail (`::1.2.3.4`) fills the last two groups.
  const width = (groups: string[]): number => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const gap = addr.indexOf('::');
  const head = split(gap < 0 ? addr : addr.slice(0, gap));
  const tail = gap < 0 ? [] : split(addr.slice(gap + 2));
  const zeros = gap < 0 ? 0 : 8 - width(head) - width(tail);
  return [...head, ...Array<string>(zeros).fill('0'), ...tail].map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16)));
}

import { BlockList, isIP } from 'node:net';

/**
 * CIDR blocks, `address/prefix` (RFC 4632 §3.1 for IPv4, RFC 4291 §2.3 for
 * IPv6), as a list: either one string of blocks separated by commas (what an
 * environment variable or a flag can carry) or an array of strings (a JSON
 * config file or request body).
 */
export interface CidrBlock {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Blocks a list may hold: enough for a carrier's published ranges, few enough to stay a list. */
export const MAX_CIDR_BLOCKS = 64;

/** The blocks of `value`, or the problem with it as a CIDR list. */
function readCidrList(value: unknown): CidrBlock[] | string {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? (value as unknown[]) : undefined;
  if (items === undefined) return `expected CIDR blocks as "a.b.c.d/n, x:y::/n" or an array of them [got:${JSON.stringify(value)}]`;
  if (items.length === 0 || items.length > MAX_CIDR_BLOCKS) return `expected 1–${MAX_CIDR_BLOCKS} CIDR blocks [got:${items.length}]`;
  const blocks: CidrBlock[] = [];
  for (const item of items) {
    const b = parseBlock(item);
    if (b === undefined) return `expected a CIDR block such as 10.0.0.0/8 or 2001:db8::/32 [got:${JSON.stringify(item)}]`;
    blocks.push(b);
  }
  return blocks;
}

function parseBlock(item: unknown): CidrBlock | undefined {
  if (typeof item !== 'string') return undefined;
  const m = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(item.trim());
  if (m === null) return undefined;
  const family = isIP(m[1]!);
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { address: m[1]!, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** The problem with `value` as a CIDR list, or undefined when it is one (for config validation). */
export function cidrListProblem(value: unknown): string | undefined {
  const r = readCidrList(value);
  return typeof r === 'string' ? r : undefined;
}

/** Parses a CIDR list (see above); throws a RangeError naming the first bad entry. */
export function parseCidrList(value: unknown): CidrBlock[] {
  const r = readCidrList(value);
  if (typeof r === 'string') throw new RangeError(r);
  return r;
}

/**
 * A matcher for the blocks (node:net's BlockList). An IPv4 peer seen on a
 * dual-stack socket as `::ffff:a.b.c.d` matches the IPv4 block it belongs to.
 * `check` builds a small address object per call: callers use it at control
 * rate or per packet only while they are learning a source.
 */
export function cidrMatcher(blocks: readonly CidrBlock[]): BlockList {
  const list = new BlockList();
  for (const b of blocks) list.addSubnet(b.address, b.prefix, b.family);
  return list;
}

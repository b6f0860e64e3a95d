/**
 * The structured SIP header values this stack reads (RFC 3261 §20, grammar
 * §25.1): comma-separated lists (§7.3.1), name-addr / addr-spec with
 * parameters (From, To, Contact, Route, Record-Route: §20.10, §20.20, §20.39),
 * Via (§20.42, with RFC 3581 `rport`), and SIP URIs (§19.1.1). Each parser
 * returns undefined for a value it cannot read; none throws.
 */

import type { SipHeaderList } from './sipMessage.ts';

/** Splits a header value at commas outside quoted strings and <…> (§7.3.1). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = false;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === ',' && !angle) {
      out.push(value.slice(from, i).trim());
      from = i + 1;
    }
  }
  out.push(value.slice(from).trim());
  return out.filter((v) => v.length > 0);
}

/** Every value of a list-valued header over all its lines (Via, Route, Record-Route, Contact). */
export function headerValues(headers: SipHeaderList, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n === name) out.push(...splitList(v));
  return out;
}

/** `;name=value;flag` → a map (names lower-case, values as written, quotes removed). */
export function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const p of text.split(';')) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (name.length === 0) continue;
    let value = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    params.set(name, value);
  }
  return params;
}

export interface NameAddr {
  display: string | undefined;
  uri: string;
  /** Header parameters (tag, expires, q, …), after the URI. */
  params: Map<string, string>;
}

/**
 * name-addr (`"Display" <uri>;params`) or addr-spec (`uri;params`: §20.10,
 * parameters after a bare URI belong to the header, not the URI).
 */
export function parseNameAddr(value: string): NameAddr | undefined {
  const v = value.trim();
  let display: string | undefined;
  let rest = v;
  if (v.startsWith('"')) {
    let i = 1;
    for (; i < v.length && v[i] !== '"'; i++) if (v[i] === '\\') i++;
    if (i >= v.length) return undefined; // unterminated quoted string (RFC 4475 §3.1.2.6)
    display = v.slice(1, i).replace(/\\(.)/g, '$1');
    rest = v.slice(i + 1).trim();
    if (!rest.startsWith('<')) return undefined;
  }
  const lt = rest.indexOf('<');
  if (lt >= 0) {
    const gt = rest.indexOf('>', lt);
    if (gt < 0) return undefined;
    const name = rest.slice(0, lt).trim();
    // A display name unquoted is tokens and spaces only (RFC 4475 §3.1.2.15).
    if (display === undefined && name.length > 0) {
      if (!/^[A-Za-z0-9\-.!%*_+`'~ \t]+$/.test(name)) return undefined;
      display = name;
    }
    // No LWS inside the brackets (RFC 4475 §3.1.2.14).
    const uri = rest.slice(lt + 1, gt);
    if (!validUri(uri)) return undefined;
    return { display, uri, params: parseParams(rest.slice(gt + 1)) };
  }
  if (display !== undefined) return undefined;
  const semi = rest.indexOf(';');
  const uri = (semi < 0 ? rest : rest.slice(0, semi)).trim();
  // §20.10: a URI with a comma, question mark or semicolon must be in <> (RFC 4475 §3.1.2.13).
  if (!validUri(uri) || uri.includes('?') || uri.includes(',')) return undefined;
  return { display: undefined, uri, params: parseParams(semi < 0 ? '' : rest.slice(semi)) };
}

function validUri(uri: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>"]+$/.test(uri);
}

export interface SipUri {
  scheme: 'sip' | 'sips';
  user: string | undefined;
  host: string;
  port: number | undefined;
  params: Map<string, string>;
}

/** A sip: or sips: URI (§19.1.1); the user part unescaped; headers (`?…`) dropped. */
export function parseSipUri(text: string): SipUri | undefined {
  const m = /^(sips?):(?:([^@;?]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_]+)(?::(\d{1,5}))?((?:;[^?]*)?)(?:\?.*)?$/i.exec(text.trim());
  if (m === null) return undefined;
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  let user: string | undefined;
  if (m[2] !== undefined) {
    const raw = m[2].split(':')[0]!;
    try {
      user = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  const host = m[3]!.startsWith('[') ? m[3]!.slice(1, -1) : m[3]!.toLowerCase();
  return { scheme: m[1]!.toLowerCase() as 'sip' | 'sips', user, host, port, params: parseParams(m[5] ?? '') };
}

export interface Via {
  /** `UDP`, `TCP`, `TLS`, … (upper case). */
  transport: string;
  host: string;
  port: number | undefined;
  params: Map<string, string>;
}

/** One Via value (§20.42): `SIP/2.0/UDP host[:port];branch=…;rport`, LWS allowed around the slashes. */
export function parseVia(value: string): Via | undefined {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_]+)(?:\s*:\s*(\d{1,5}))?\s*((?:;.*)?)$/.exec(value.trim());
  if (m === null) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { transport: m[1]!.toUpperCase(), host, port, params: parseParams(m[4] ?? '') };
}

/** RFC 3261 §8.1.1.7: branches that begin with the magic cookie identify a transaction alone. */
export const BRANCH_COOKIE = 'z9hG4bK';

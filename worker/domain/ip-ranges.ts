/**
 * IPv4/IPv6 addresses and CIDR ranges for the source IP filter of triggers and silences
 * (docs/triggers.md#filters). Pure: addresses become numbers (bigint for IPv6), a range is a
 * network and a prefix length. An IPv4-mapped IPv6 address (::ffff:198.51.100.7) counts as IPv4.
 */

import { parseIpv4, parseIpv6 } from "../lib/ip-address";

export interface IpRange {
  version: 4 | 6;
  network: bigint;
  prefix: number;
}

const MAPPED_V4_PREFIX = 0xffffn << 32n;

/** An address as {version, value}; IPv4-mapped IPv6 addresses come back as IPv4. Null if not an address. */
export function parseIp(text: string): { version: 4 | 6; value: bigint } | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 ^ MAPPED_V4_PREFIX };
  return { version: 6, value: v6 };
}

/** "198.51.100.0/24", "2001:db8::/32", or a single address (a /32 or /128). Null if neither. */
export function parseIpRange(text: string): IpRange | null {
  const [address = "", prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const ip = parseIp(address);
  if (!ip) return null;
  // The prefix counts bits of the address as written: a mapped address written as IPv6 has 128.
  const bits = address.includes(":") ? 128 : 32;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > bits) return null;
  }
  if (ip.version === 4 && bits === 128) {
    // ::ffff:0:0/96 and longer prefixes map onto IPv4 prefixes; shorter ones make no sense here.
    if (prefix < 96) return null;
    prefix -= 96;
  }
  const width = ip.version === 4 ? 32 : 128;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  return { version: ip.version, network: ip.value & mask, prefix };
}

export function rangeContains(range: IpRange, ip: { version: 4 | 6; value: bigint }): boolean {
  if (range.version !== ip.version) return false;
  const width = range.version === 4 ? 32 : 128;
  return ip.value >> BigInt(width - range.prefix) === range.network >> BigInt(width - range.prefix);
}

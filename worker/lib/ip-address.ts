/**
 * IPv4 and IPv6 address literals as numbers, for the source IP filter (worker/domain/ip-ranges.ts)
 * and the destination URL check (worker/security/destination-url.ts). Strict: a dotted quad has
 * no leading zeros (01.2.3.4 could be read as octal), an IPv6 literal has no zone (%eth0).
 */

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** "198.51.100.7" as a 32-bit number, or null. */
export function parseIpv4(text: string): bigint | null {
  const match = DOTTED_QUAD.exec(text);
  if (!match) return null;
  let value = 0n;
  for (const part of match.slice(1)) {
    if (part.length > 1 && part.startsWith("0")) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

/** "2001:db8::1" or "::ffff:1.2.3.4" (any case, "::" once at most) as a 128-bit number, or null. */
export function parseIpv6(text: string): bigint | null {
  if (!/^[0-9a-f:.]+$/i.test(text) || text.split("::").length > 2) return null;
  let tail = text;
  let embedded: bigint | null = null;
  // A trailing dotted quad ("::ffff:1.2.3.4") stands for the last two groups.
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    embedded = parseIpv4(text.slice(lastColon + 1));
    if (embedded === null) return null;
    tail = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = "", rest] = tail.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const missing = 8 - headGroups.length - restGroups.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...headGroups, ...Array<string>(rest === undefined ? 0 : missing).fill("0"), ...restGroups];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return embedded === null ? value : value | embedded;
}

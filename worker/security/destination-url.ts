/**
 * Where Herald may send (docs/channels.md): https only (http where ALLOW_HTTP_DESTINATIONS=true), no
 * credentials in the URL, and no loopback / private / link-local / unique-local / CGNAT /
 * cloud-metadata targets unless ALLOW_PRIVATE_DESTINATIONS=true. Checked on every save and test send.
 *
 * Hostnames are judged by name only: a public name that resolves to a private address cannot be
 * caught here (Workers have no resolver), but Cloudflare's egress does not route to private
 * networks either; this check stops the literal forms (IP literals in every notation the URL
 * parser accepts, localhost names, metadata names) that would work against self-hosted runtimes.
 */

import { parseIpv4, parseIpv6 } from "../lib/ip-address";

export interface DestinationPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
}

export function destinationPolicy(env: {
  ALLOW_HTTP_DESTINATIONS?: string;
  ALLOW_PRIVATE_DESTINATIONS?: string;
}): DestinationPolicy {
  return {
    allowHttp: env.ALLOW_HTTP_DESTINATIONS === "true",
    allowPrivate: env.ALLOW_PRIVATE_DESTINATIONS === "true",
  };
}

const MAX_URL_LENGTH = 2048;

/** Returns why the URL is refused, or null when it is allowed. */
export function checkDestinationUrl(value: string, policy: DestinationPolicy): string | null {
  if (value.length > MAX_URL_LENGTH) return `Must be at most ${MAX_URL_LENGTH} characters.`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "Must be an absolute URL such as https://example.com/path.";
  }
  if (url.protocol !== "https:" && !(policy.allowHttp && url.protocol === "http:")) {
    return policy.allowHttp ? "Must start with https:// or http://." : "Must start with https://.";
  }
  if (url.username || url.password) return "Must not contain credentials (user:password@); use a secret field.";
  if (!url.hostname) return "Must name a host.";
  if (!policy.allowPrivate) {
    const reason = privateHostReason(url.hostname);
    if (reason) return `Must not point at ${reason}.`;
  }
  return null;
}

/** Why a hostname (as normalised by the URL parser) is not a public destination, or null. */
function privateHostReason(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") && host.endsWith("]")) return ipv6Reason(host.slice(1, -1));
  // The URL parser has already turned 0x7f.1, 2130706433, 0177.0.0.1 and the like into dotted quads.
  const v4 = parseIpv4(host);
  if (v4 !== null) return ipv4Reason(Number(v4));
  if (host === "localhost" || host.endsWith(".localhost")) return "a loopback host";
  if (host === "metadata" || host === "metadata.google.internal" || host === "instance-data") {
    return "a cloud metadata service";
  }
  if (host.endsWith(".local") || host.endsWith(".internal") || !host.includes(".")) {
    return "a local network name";
  }
  return null;
}

const v4 = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d;

/** [first address, prefix length, what it is] */
const IPV4_BLOCKED: [number, number, string][] = [
  [v4(0, 0, 0, 0), 8, "an unspecified address"],
  [v4(10, 0, 0, 0), 8, "a private address"],
  [v4(100, 64, 0, 0), 10, "a carrier-grade NAT address"],
  [v4(127, 0, 0, 0), 8, "a loopback address"],
  [v4(169, 254, 0, 0), 16, "a link-local or cloud metadata address"],
  [v4(172, 16, 0, 0), 12, "a private address"],
  [v4(192, 0, 0, 0), 24, "an IETF protocol address"],
  [v4(192, 0, 2, 0), 24, "a documentation address"],
  [v4(192, 88, 99, 0), 24, "a relay address"],
  [v4(192, 168, 0, 0), 16, "a private address"],
  [v4(198, 18, 0, 0), 15, "a benchmarking address"],
  [v4(198, 51, 100, 0), 24, "a documentation address"],
  [v4(203, 0, 113, 0), 24, "a documentation address"],
  [v4(224, 0, 0, 0), 4, "a multicast address"],
  [v4(240, 0, 0, 0), 4, "a reserved address"],
];

function ipv4Reason(address: number): string | null {
  for (const [start, prefix, reason] of IPV4_BLOCKED) {
    const size = 2 ** (32 - prefix);
    if (address >= start && address < start + size) return reason;
  }
  return null;
}

/** An IPv6 address as its eight 16-bit groups. */
function ipv6Groups(address: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((address >> BigInt(112 - 16 * i)) & 0xffffn));
}

function ipv6Reason(text: string): string | null {
  const address = parseIpv6(text);
  if (address === null) return "an invalid IPv6 address";
  const g = ipv6Groups(address);
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const embedded = (hi: number, lo: number) => ipv4Reason(hi * 65536 + lo);
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0 && g6 === 0 && g7 === 0) return "an unspecified address";
  if (firstFiveZero && g5 === 0 && g6 === 0 && g7 === 1) return "a loopback address";
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible form (::a.b.c.d).
  if (firstFiveZero && (g5 === 0xffff || g5 === 0)) return embedded(g6, g7) ?? null;
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return embedded(g6, g7);
  // 6to4 (2002::/16) carries an IPv4 address in groups 1-2.
  if (g0 === 0x2002) return embedded(g1, g2);
  if ((g0 & 0xffc0) === 0xfe80) return "a link-local address";
  if ((g0 & 0xffc0) === 0xfec0) return "a site-local address";
  if ((g0 & 0xfe00) === 0xfc00) return "a unique-local (private) address";
  if ((g0 & 0xff00) === 0xff00) return "a multicast address";
  if (g0 === 0x2001 && g1 === 0x0db8) return "a documentation address";
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return "a discard address";
  return null;
}

// ---- custom headers (webhook) ----

const MAX_CUSTOM_HEADERS = 20;
const MAX_HEADER_NAME_LENGTH = 100;
const MAX_HEADER_VALUE_LENGTH = 4096;

/**
 * Header names a destination's configuration may not set: hop-by-hop and framing headers the
 * runtime owns, the body's content type (set from the format), and the signature headers
 * Herald computes itself (a configured value would forge or break them).
 */
const FORBIDDEN_HEADER_NAMES = new Set([
  "host",
  "content-length",
  "content-type",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "cookie",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
]);

const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

interface HeaderProblem {
  /** Path below the headers field: [] for the list itself, [i, "name"] / [i, "value"]. */
  path: (string | number)[];
  message: string;
}

/** Checks a list of configured headers: count, names, duplicates, values without line breaks. */
export function checkCustomHeaders(headers: readonly { name?: unknown; value?: unknown }[]): HeaderProblem[] {
  const problems: HeaderProblem[] = [];
  if (headers.length > MAX_CUSTOM_HEADERS) {
    problems.push({ path: [], message: `At most ${MAX_CUSTOM_HEADERS} custom headers.` });
  }
  const seen = new Set<string>();
  headers.forEach((header, i) => {
    const name = typeof header.name === "string" ? header.name : "";
    const lower = name.toLowerCase();
    if (name.length < 1 || name.length > MAX_HEADER_NAME_LENGTH) {
      problems.push({ path: [i, "name"], message: `Must be 1–${MAX_HEADER_NAME_LENGTH} characters.` });
    } else if (!HEADER_TOKEN.test(name)) {
      problems.push({ path: [i, "name"], message: "Must be a valid HTTP header name (letters, digits, - and _)." });
    } else if (FORBIDDEN_HEADER_NAMES.has(lower) || lower.startsWith("proxy-") || lower.startsWith("sec-")) {
      problems.push({ path: [i, "name"], message: `The ${name} header is set by Herald and cannot be configured.` });
    } else if (seen.has(lower)) {
      problems.push({ path: [i, "name"], message: `The ${name} header is listed twice.` });
    }
    seen.add(lower);
    if (typeof header.value === "string") {
      if (/[\r\n\0]/.test(header.value)) {
        problems.push({ path: [i, "value"], message: "Must not contain line breaks." });
      } else if (header.value.length > MAX_HEADER_VALUE_LENGTH) {
        problems.push({ path: [i, "value"], message: `Must be at most ${MAX_HEADER_VALUE_LENGTH} characters.` });
      }
    }
  });
  return problems;
}

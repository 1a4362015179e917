import { describe, expect, it } from "vitest";
import { parseIpv4, parseIpv6 } from "../../worker/lib/ip-address";

/** The eight 16-bit groups, to compare with the written form. */
function groups(value: bigint | null): number[] | null {
  if (value === null) return null;
  return Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
}

describe("IP address literals", () => {
  it("read dotted quads, refusing leading zeros and out-of-range octets", () => {
    expect(parseIpv4("198.51.100.7")).toBe((198n << 24n) | (51n << 16n) | (100n << 8n) | 7n);
    expect(parseIpv4("0.0.0.0")).toBe(0n);
    expect(parseIpv4("255.255.255.255")).toBe(0xffffffffn);
    // The destination check's old parser took "01.2.3.4" as 1.2.3.4; octal readings make it ambiguous.
    expect(parseIpv4("01.2.3.4")).toBeNull();
    expect(parseIpv4("256.1.1.1")).toBeNull();
    expect(parseIpv4("1.2.3")).toBeNull();
    expect(parseIpv4("::1")).toBeNull();
  });

  it("read IPv6 with zero compression anywhere, once", () => {
    expect(groups(parseIpv6("::1"))).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(groups(parseIpv6("::"))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(groups(parseIpv6("1::"))).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(groups(parseIpv6("1:2:3:4:5:6:7:8"))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // "::" may stand for a single group.
    expect(groups(parseIpv6("1:2:3::5:6:7:8"))).toEqual([1, 2, 3, 0, 5, 6, 7, 8]);
    expect(groups(parseIpv6("2001:DB8::Ab"))).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xab]);
    expect(parseIpv6("1::2::3")).toBeNull();
    expect(parseIpv6("1:2:3:4:5:6:7:8:9")).toBeNull();
    expect(parseIpv6("1:2:3:4:5:6:7::8")).toBeNull();
    expect(parseIpv6("1:2:3:4:5:6:7")).toBeNull();
    expect(parseIpv6(":1::")).toBeNull();
    expect(parseIpv6("1::2:")).toBeNull();
    expect(parseIpv6("12345::")).toBeNull();
    expect(parseIpv6("")).toBeNull();
  });

  it("read a trailing dotted quad as the last two groups (IPv4-mapped and -compatible)", () => {
    expect(groups(parseIpv6("::ffff:1.2.3.4"))).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(groups(parseIpv6("::1.2.3.4"))).toEqual([0, 0, 0, 0, 0, 0, 0x0102, 0x0304]);
    expect(groups(parseIpv6("1:2:3:4:5:6:1.2.3.4"))).toEqual([1, 2, 3, 4, 5, 6, 0x0102, 0x0304]);
    expect(parseIpv6("1:2:3:4:5:6:7:1.2.3.4")).toBeNull();
    expect(parseIpv6("::ffff:1.2.3.256")).toBeNull();
    expect(parseIpv6("::ffff:01.2.3.4")).toBeNull();
    expect(parseIpv6("1.2.3.4::")).toBeNull();
    expect(parseIpv6("1.2.3.4")).toBeNull();
  });

  it("refuse a zone index (the old destination parser dropped it, the filter parser refused it)", () => {
    expect(parseIpv6("fe80::1%eth0")).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { checkCustomHeaders, checkDestinationUrl } from "../../../worker/security/destination-url";

const production = { allowHttp: false, allowPrivate: false };

describe("destination URL rules", () => {
  it("accepts public https URLs", () => {
    for (const url of [
      "https://hooks.slack.com/services/T0/B0/XYZ",
      "https://splunk.example.com:8088",
      "https://8.8.8.8/x",
      "https://[2606:4700::1111]/",
    ]) {
      expect(checkDestinationUrl(url, production), url).toBeNull();
    }
  });

  it("requires https unless http is allowed", () => {
    expect(checkDestinationUrl("http://example.com/", production)).toMatch(/https/);
    expect(checkDestinationUrl("http://example.com/", { ...production, allowHttp: true })).toBeNull();
    expect(checkDestinationUrl("ftp://example.com/", { ...production, allowHttp: true })).toMatch(/http/);
    expect(checkDestinationUrl("not a url", production)).toMatch(/absolute URL/);
  });

  it("refuses credentials in the URL", () => {
    expect(checkDestinationUrl("https://user:pw@example.com/", production)).toMatch(/credentials/);
    expect(checkDestinationUrl("https://user@example.com/", production)).toMatch(/credentials/);
  });

  it("refuses loopback, private, link-local, CGNAT and metadata targets in every notation", () => {
    const refused = [
      "https://localhost/",
      "https://LOCALHOST./",
      "https://api.localhost/",
      "https://127.0.0.1/",
      "https://127.1/",
      "https://2130706433/",
      "https://0x7f000001/",
      "https://0177.0.0.1/",
      "https://0.0.0.0/",
      "https://10.1.2.3/",
      "https://172.16.0.1/",
      "https://172.31.255.255/",
      "https://192.168.1.1/",
      "https://100.64.0.1/",
      "https://169.254.169.254/latest/meta-data",
      "https://metadata.google.internal/",
      "https://[::1]/",
      "https://[::]/",
      "https://[fe80::1]/",
      "https://[fc00::1]/",
      "https://[fd00:ec2::254]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:a9fe:a9fe]/",
      "https://[::ffff:10.0.0.1]/",
      "https://[::127.0.0.1]/",
      "https://[0:0:0:0:0:FFFF:7F00:0001]/",
      "https://[64:ff9b::a00:1]/",
      "https://[2002:c0a8:101::1]/",
      "https://[ff02::1]/",
      "https://intranet/",
    ];
    for (const url of refused) {
      expect(checkDestinationUrl(url, production), url).toMatch(/^Must not point at/);
      expect(checkDestinationUrl(url, { allowHttp: false, allowPrivate: true }), url).toBeNull();
    }
  });

  it("does not mistake public neighbours of private ranges", () => {
    for (const url of [
      "https://172.32.0.1/",
      "https://100.128.0.1/",
      "https://11.0.0.1/",
      "https://[2001:4860::8888]/",
    ]) {
      expect(checkDestinationUrl(url, production), url).toBeNull();
    }
  });
});

describe("custom header rules", () => {
  it("accepts ordinary headers", () => {
    expect(
      checkCustomHeaders([
        { name: "Authorization", value: "Bearer x" },
        { name: "X-Team", value: "sec" },
      ]),
    ).toEqual([]);
  });

  it("names each problem's position", () => {
    const problems = checkCustomHeaders([
      { name: "Host", value: "evil" },
      { name: "X-A", value: "ok" },
      { name: "x-a", value: "dup" },
      { name: "Bad Name", value: "v" },
      { name: "X-B", value: "line\r\nbreak" },
      { name: "", value: "v" },
      { name: "Webhook-Signature", value: "v1,forged" },
    ]);
    expect(problems.map((p) => p.path.join("."))).toEqual([
      "0.name",
      "2.name",
      "3.name",
      "4.value",
      "5.name",
      "6.name",
    ]);
  });

  it("allows at most 20", () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ name: `X-H${i}`, value: "v" }));
    expect(checkCustomHeaders(many)[0]).toMatchObject({ path: [] });
    expect(checkCustomHeaders(many.slice(0, 20))).toEqual([]);
  });
});

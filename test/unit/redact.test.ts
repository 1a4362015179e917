import { describe, expect, it } from "vitest";
import { redact } from "../../worker/channels/http";

// Receivers quote credentials back in error answers, often only part of them, and error texts
// are whitespace-normalised before redaction (worker/channels/http.ts).
describe("redact", () => {
  it("scrubs the bare token of a 'Bearer <token>' header value", () => {
    const token = "wh-8c1f0e5a-secret-value";
    expect(redact(`401 invalid credential "${token}"`, [`Bearer ${token}`])).toBe(
      '401 invalid credential "[redacted]"',
    );
  });

  it("scrubs a secret whose whitespace the error text normalised", () => {
    const secret = "Token\tabcdefgh12345678  extra-part-xyz";
    const text = "rejected: Token abcdefgh12345678 extra-part-xyz".replace(/\s+/g, " ");
    expect(redact(text, [secret])).toBe("rejected: [redacted]");
  });

  it("scrubs a URL's query string, query values and user-info, and the whole URL as one", () => {
    const url = "https://robot:pa55w0rd-long@hooks.example.com/in?token=q-secret-123456&team=blue";
    expect(redact(`cannot reach ${url}`, [url])).toBe("cannot reach [redacted]");
    expect(redact("token=q-secret-123456&team=blue was refused", [url])).toBe("[redacted] was refused");
    expect(redact("bad value q-secret-123456", [url])).toBe("bad value [redacted]");
    expect(redact("user robot:pa55w0rd-long", [url])).toBe("user robot:[redacted]");
  });

  it("leaves short words of a secret alone", () => {
    expect(redact("Bearer realm=api", ["Bearer abcdefghijklmnop"])).toBe("Bearer realm=api");
  });
});

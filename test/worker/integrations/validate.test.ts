import { describe, expect, it } from "vitest";
import { CHANNELS, getChannel } from "../../../worker/channels/catalog";
import { prepareCreateSettings, prepareUpdateSettings } from "../../../worker/integrations/settings-input";
import { validateSettings, validateSubscriptions } from "../../../worker/integrations/validate";

const production = { allowHttp: false, allowPrivate: false };
const channel = (type: string) => getChannel(type)!;

describe("deployment rules on destination URLs, per system", () => {
  const urlSystems = CHANNELS.filter((c) => c.urlFields.length > 0);

  it("covers every system that has a destination URL", () => {
    expect(urlSystems.map((c) => c.type).sort()).toEqual(["insightconnect", "slack", "splunk", "sumologic", "webhook"]);
  });

  const base: Record<string, Record<string, unknown>> = {
    slack: { webhook_url: "" },
    insightconnect: { url: "", api_key: "abcdefgh12345" },
    splunk: { url: "", token: "b0221cd8-c4b4-465a" },
    sumologic: { url: "" },
    webhook: { url: "" },
  };

  it.each(Object.keys(base))(
    "%s: refuses http, private and metadata targets in production, naming the field",
    (type) => {
      const ch = channel(type);
      const field = ch.urlFields[0]!;
      const withUrl = (url: string) => ({ ...base[type], [field]: url });
      expect(validateSettings(ch, withUrl("https://hooks.example.com/a/b"), production)).toMatchObject({ ok: true });
      for (const url of [
        "http://hooks.example.com/a",
        "https://127.0.0.1/a",
        "https://localhost/a",
        "https://10.0.0.8/a",
        "https://169.254.169.254/latest",
        "https://[::ffff:192.168.0.1]/a",
        "https://[fd00::1]/a",
      ]) {
        const result = validateSettings(ch, withUrl(url), production);
        expect(result.ok, `${type} ${url}`).toBe(false);
        if (!result.ok)
          expect(
            result.errors.map((e) => e.field),
            url,
          ).toContain(`settings.${field}`);
      }
      // The development switches allow them.
      const dev = { allowHttp: true, allowPrivate: true };
      expect(validateSettings(ch, withUrl("http://127.0.0.1:8787/a"), dev)).toMatchObject({ ok: true });
    },
  );
});

describe("subscriptions per system", () => {
  it("allows hit only for SIEM and webhook systems, reports only where docs/api.md#integrations allows", () => {
    for (const ch of CHANNELS) {
      const hit = validateSubscriptions(ch, { hit: true });
      expect(hit.length === 0, ch.type).toBe(["splunk", "sumologic", "insightconnect", "webhook"].includes(ch.type));
      if (hit.length) expect(hit[0]!.field).toBe("events.hit");
      const reports = validateSubscriptions(ch, { reports: ["daily"] });
      expect(reports.length === 0, ch.type).toBe(
        ["personal_email", "email", "telegram", "slack", "webhook"].includes(ch.type),
      );
      expect(
        validateSubscriptions(ch, { system: true, security_issue: ["info"], incident: true, scope_change: true }),
      ).toEqual([]);
    }
  });
});

describe("generated secrets", () => {
  it("are generated on create, ignored from input, and kept on update", () => {
    const webhook = channel("webhook");
    const input = { url: "https://hooks.example.com/x", signing_secret: `whsec_${"B".repeat(40)}` };
    const created = prepareCreateSettings(webhook, input, production);
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    const secret = created.generated.signing_secret!;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(input.signing_secret);
    expect(created.settings.signing_secret).toBe(secret);
    expect(created.settings.timeout_seconds).toBe(15);

    const updated = prepareUpdateSettings(
      webhook,
      { signing_secret: "whsec_forged", method: "PUT" },
      { settings: created.settings, unreadable: false },
      production,
    );
    expect(updated).toMatchObject({ ok: true, generated: {} });
    if (updated.ok) expect(updated.settings).toMatchObject({ signing_secret: secret, method: "PUT" });
  });
});

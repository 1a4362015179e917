import { describe, expect, it } from "vitest";
import { CHANNELS, getChannel } from "../../../worker/channels/catalog";
import { INTEGRATION_TYPES } from "../../../worker/channels/types";
import { generateSigningSecret } from "../../../worker/channels/webhook";

const settings = (type: string, value: unknown) => getChannel(type)!.settingsSchema.safeParse(value);

describe("channel catalog", () => {
  it("lists every integration type once, in the order and blocks of docs/channels.md#the-catalog", () => {
    expect(CHANNELS.map((c) => c.type)).toEqual([...INTEGRATION_TYPES]);
    expect(CHANNELS.map((c) => c.block)).toEqual([
      "email_and_messengers",
      "email_and_messengers",
      "email_and_messengers",
      "email_and_messengers",
      "incident_management_and_siem",
      "incident_management_and_siem",
      "incident_management_and_siem",
      "incident_management_and_siem",
      "incident_management_and_siem",
      "other",
    ]);
    for (const type of INTEGRATION_TYPES) expect(getChannel(type)?.type).toBe(type);
    expect(getChannel("fax")).toBeUndefined();
  });

  it("offers `hit` only to SIEM and webhook systems and `reports` only to mail, messengers and webhook", () => {
    const withCategory = (category: string) =>
      CHANNELS.filter((c) => (c.categories as readonly string[]).includes(category)).map((c) => c.type);
    expect(withCategory("hit")).toEqual(["insightconnect", "splunk", "sumologic", "webhook"]);
    expect(withCategory("reports")).toEqual(["personal_email", "email", "slack", "telegram", "webhook"]);
    for (const category of ["system", "security_issue", "scope_change", "incident"]) {
      expect(withCategory(category)).toHaveLength(10);
    }
  });

  it("batches only for webhook, Splunk and Sumo Logic", () => {
    const batching = CHANNELS.filter((c) => c.batchLimit > 1).map((c) => c.type);
    expect(batching).toEqual(["splunk", "sumologic", "webhook"]);
  });

  it("declares the secret and URL settings of docs/channels.md#the-catalog", () => {
    const secrets = Object.fromEntries(CHANNELS.map((c) => [c.type, c.secretFields]));
    expect(secrets).toMatchObject({
      personal_email: [],
      email: [],
      slack: ["webhook_url"],
      telegram: ["bot_token"],
      opsgenie: ["api_key"],
      insightconnect: ["api_key"],
      pagerduty: ["routing_key"],
      splunk: ["token"],
      sumologic: ["url"],
    });
    expect(getChannel("webhook")!.secretFields).toContain("headers[].value");
    expect(getChannel("webhook")!.secretFields).toContain("signing_secret");
    expect(getChannel("webhook")!.generatedFields).toContain("signing_secret");
  });
});

describe("settings schemas", () => {
  it("accept valid settings and apply defaults", () => {
    expect(settings("personal_email", {}).success).toBe(true);
    expect(settings("email", { recipients: ["a@example.com", "b@example.org"] }).success).toBe(true);
    expect(settings("slack", { webhook_url: "https://hooks.slack.com/services/T0/B0/xyz" }).success).toBe(true);
    expect(
      settings("telegram", { bot_token: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", chat_id: -1001234567890 })
        .data,
    ).toEqual({ bot_token: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", chat_id: "-1001234567890" });
    expect(settings("opsgenie", { api_key: "eb243592-faa2-4ba2-a551q-1afdf565c889" }).data).toMatchObject({
      region: "us",
    });
    expect(settings("pagerduty", { routing_key: "R0123456789ABCDEF0123456789ABCDE" }).success).toBe(true);
    expect(
      settings("splunk", {
        url: "https://splunk.example.com:8088",
        token: "B5A79AAD-D822-46CC-80D1-819F80D7BFB0",
        index: "main",
      }).success,
    ).toBe(true);
    expect(settings("webhook", { url: "https://hooks.example.com/in" }).data).toEqual({
      url: "https://hooks.example.com/in",
      method: "POST",
      headers: [],
      format: "json_array",
      timeout_seconds: 15,
    });
  });

  it("reject bad settings naming the field", () => {
    const firstPath = (type: string, value: unknown) => settings(type, value).error?.issues[0]?.path.join(".");
    expect(firstPath("email", { recipients: [] })).toBe("recipients");
    expect(firstPath("email", { recipients: ["not an address"] })).toBe("recipients.0");
    expect(settings("email", { recipients: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) }).success).toBe(
      false,
    );
    expect(firstPath("pagerduty", { routing_key: "short" })).toBe("routing_key");
    expect(firstPath("telegram", { bot_token: "nope", chat_id: "1" })).toBe("bot_token");
    expect(firstPath("telegram", { bot_token: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", chat_id: "x y" })).toBe(
      "chat_id",
    );
    expect(firstPath("opsgenie", { api_key: "eb243592-faa2-4ba2", region: "asia" })).toBe("region");
    expect(firstPath("slack", { webhook_url: "ftp://x" })).toBe("webhook_url");
    expect(firstPath("slack", { webhook_url: "https://user:pw@hooks.slack.com/x" })).toBe("webhook_url");
    expect(firstPath("splunk", { url: "https://s:8088/services/collector/event", token: "abcdefgh" })).toBe("url");
    expect(firstPath("webhook", { url: "https://h.example/", timeout_seconds: 61 })).toBe("timeout_seconds");
    expect(firstPath("webhook", { url: "https://h.example/", headers: [{ name: "Host", value: "x" }] })).toBe(
      "headers.0.name",
    );
    expect(firstPath("webhook", { url: "https://h.example/", headers: [{ name: "X-A", value: "a\r\nB: c" }] })).toBe(
      "headers.0.value",
    );
    expect(firstPath("webhook", { url: "https://h.example/", extra: 1 })).toBe("");
  });

  it("webhook secrets are Standard Webhooks whsec_ secrets of 32 random bytes", () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice(6))).toHaveLength(32);
    expect(settings("webhook", { url: "https://h.example/", signing_secret: secret }).success).toBe(true);
    expect(generateSigningSecret()).not.toBe(secret);
  });
});

/**
 * Valid settings for every system, pointed at the receiver hub on 127.0.0.1 (vendor hosts for
 * Telegram, PagerDuty and Opsgenie are hub buckets in vitest.config.ts).
 */
import { INTEGRATION_TYPES, type IntegrationType } from "../../../worker/channels/types";
import { api, login, type Session, seedAccount } from "../helpers";
import { hubUrl } from "../hub";

/** Every system an admin creates (personal email is created per user). */
export type CreatableType = Exclude<IntegrationType, "personal_email">;
export const CREATABLE_TYPES = INTEGRATION_TYPES.filter((t): t is CreatableType => t !== "personal_email");

/** A unique suffix so secrets differ per test (leak checks then look for exactly these). */
const tag = () => crypto.randomUUID().replace(/-/g, "").slice(0, 12);

export interface Fixture {
  settings: Record<string, unknown>;
  /** The secret values inside `settings`. */
  secrets: string[];
  /** The hub bucket this integration's requests land in (null for email). */
  bucket: string | null;
  /** All categories the system allows, except reports (kept for dedicated tests). */
  events: Record<string, unknown>;
}

const ALL_BUT_HIT = { system: true, security_issue: ["critical", "high"], scope_change: true, incident: true };
const WITH_HIT = { ...ALL_BUT_HIT, hit: true };

export function fixture(type: CreatableType, bucket = `${type}-${tag()}`): Fixture {
  const hub = (path: string) => hubUrl(bucket, path);
  const t = tag();
  switch (type) {
    case "email":
      return { settings: { recipients: [`soc-${t}@acme.test`] }, secrets: [], bucket: null, events: ALL_BUT_HIT };
    case "slack": {
      const url = hub(`/services/T0000/B0000/${t}XXXXXXXXXXXX`);
      return { settings: { webhook_url: url }, secrets: [url], bucket, events: ALL_BUT_HIT };
    }
    case "telegram": {
      const token = `123456789:AAH${t}vGWJxfSeofSAs0K5PALDsaw`;
      return {
        settings: { bot_token: token, chat_id: "-1001234567890" },
        secrets: [token],
        bucket: "telegram",
        events: ALL_BUT_HIT,
      };
    }
    case "opsgenie": {
      const key = `eb243592-faa2-4ba2-a551-${t}`;
      return { settings: { api_key: key, region: "eu" }, secrets: [key], bucket: "opsgenie-eu", events: ALL_BUT_HIT };
    }
    case "insightconnect": {
      const key = `ic-key-${t}-0123456789`;
      return {
        settings: { url: hub("/connect/v1/workflows/abc/events/execute"), api_key: key },
        secrets: [key],
        bucket,
        events: WITH_HIT,
      };
    }
    case "pagerduty": {
      const key = `R0123456789abcdefABCD${t}`.slice(0, 32);
      return { settings: { routing_key: key }, secrets: [key], bucket: "pagerduty", events: ALL_BUT_HIT };
    }
    case "splunk": {
      const token = `b0221cd8-c4b4-465a-9a3c-${t}`;
      return {
        settings: { url: hub(""), token, index: "main", sourcetype: "_json" },
        secrets: [token],
        bucket,
        events: WITH_HIT,
      };
    }
    case "sumologic": {
      const url = hub(`/receiver/v1/http/ZaVnC4dhaV3uTKlva1EnmOD4d1bN${t}`);
      return { settings: { url }, secrets: [url], bucket, events: WITH_HIT };
    }
    case "webhook": {
      const value = `Bearer wh-${t}-secret-value`;
      return {
        settings: {
          url: hub("/hook"),
          method: "POST",
          headers: [
            { name: "Authorization", value },
            { name: "X-Team", value: `team-${t}` },
          ],
          format: "json_array",
          timeout_seconds: 10,
        },
        secrets: [value, `team-${t}`],
        bucket,
        events: { ...WITH_HIT, reports: ["weekly"] },
      };
    }
  }
}

/** Asserts none of the secrets appears in the text (raw, URL-encoded or JSON-escaped). */
export function leakedSecrets(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) =>
    [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)].some((f) => text.includes(f)),
  );
}

/** The admin of a freshly seeded account, signed in. */
export async function adminSession(accountName = "Acme"): Promise<Session> {
  const account = await seedAccount(accountName);
  return login(account.users.admin.email);
}

/** Calls the API and keeps the raw body text (for leak checks) beside the parsed JSON. */
export async function apiRaw(session: Session, method: string, path: string, body?: unknown) {
  const res = await api(session, method, path, body);
  const raw = await res.text();
  return { status: res.status, raw, body: raw ? JSON.parse(raw) : null, headers: res.headers };
}

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { resolveSendTarget } from "../../../worker/integrations/send-target";
import { hubRequests } from "../hub";
import { adminSession, apiRaw, type CreatableType, fixture } from "./fixtures";

// A stored secret belongs to the destination it was entered for: moving the destination to
// another host asks for it again instead of sending it there (README "Security").
const otherHost = (url: string) => url.replace("127.0.0.1", "localhost");

async function create(type: CreatableType) {
  const admin = await adminSession();
  const fx = fixture(type);
  const res = await apiRaw(admin, "POST", "/api/integrations", {
    type,
    name: `${type} moved`,
    settings: fx.settings,
    events: fx.events,
  });
  expect(res.status, res.raw).toBe(201);
  return { admin, fx, id: res.body.integration.id as string };
}

describe("secrets bound to a destination's host", () => {
  it.each([
    ["insightconnect", ["settings.api_key"]],
    ["splunk", ["settings.token"]],
    ["webhook", ["settings.headers.0.value", "settings.headers.1.value"]],
  ] as const)("%s: a new host without the secrets is refused, naming %j", async (type, fields) => {
    const { admin, fx, id } = await create(type);
    const url = otherHost(fx.settings.url as string);
    // What the form sends back: the masked secrets as read, and the new URL.
    const read = (await apiRaw(admin, "GET", `/api/integrations/${id}`)).body.integration.settings;
    const moved = await apiRaw(admin, "PATCH", `/api/integrations/${id}`, { settings: { ...read, url } });
    expect(moved.status, moved.raw).toBe(400);
    expect(moved.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([...fields].sort());
    // Nothing half-stored: the integration still points at the old host with its secrets.
    const stored = (await resolveSendTarget(env, id))!;
    expect(stored.settings.url).toBe(fx.settings.url);
    expect(stored.secrets).toEqual(expect.arrayContaining(fx.secrets));
    // A test send still goes to the old host only.
    await apiRaw(admin, "POST", `/api/integrations/${id}/test`);
    expect((await hubRequests(fx.bucket!)).length).toBeGreaterThan(0);
  });

  it("moves with the secrets entered again", async () => {
    const { admin, fx, id } = await create("insightconnect");
    const url = otherHost(fx.settings.url as string);
    const res = await apiRaw(admin, "PATCH", `/api/integrations/${id}`, {
      settings: { url, api_key: "a-brand-new-key-0001" },
    });
    expect(res.status, res.raw).toBe(200);
    const stored = (await resolveSendTarget(env, id))!;
    expect(stored.settings).toMatchObject({ url, api_key: "a-brand-new-key-0001" });
  });

  it("keeps the secrets when only the path changes on the same host", async () => {
    const { admin, fx, id } = await create("splunk");
    const url = `${fx.settings.url as string}/proxy`;
    const res = await apiRaw(admin, "PATCH", `/api/integrations/${id}`, { settings: { url } });
    expect(res.status, res.raw).toBe(200);
    expect((await resolveSendTarget(env, id))!.settings.token).toBe(fx.secrets[0]);
  });
});

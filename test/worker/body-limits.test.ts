import { describe, expect, it } from "vitest";
import { api, call, json, login, PASSWORD, seedAccount } from "./helpers";

// Every route refuses an oversized body with 413 before parsing or authenticating it
// (worker/security/body-limits.ts).
const KiB = 1024;
const padded = (fields: Record<string, unknown>, bytes: number) =>
  JSON.stringify({ ...fields, padding: "x".repeat(bytes) });

describe("request body limits", () => {
  it("refuses a large sign-in body before reading the password", async () => {
    const acme = await seedAccount();
    const res = await call("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: padded({ email: acme.users.admin.email, password: PASSWORD }, 8 * KiB),
    });
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe("payload_too_large");
  });

  it("counts the bytes of a body sent without Content-Length", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(KiB));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 32) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await call("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
      // @ts-expect-error: workerd needs this for a streamed request body
      duplex: "half",
    });
    expect(res.status).toBe(413);
  });

  it.each([
    ["POST", "/api/users", 16],
    ["PATCH", "/api/users/some-id", 16],
    ["POST", "/api/tokens", 16],
    ["POST", "/api/nodes", 16],
    ["PATCH", "/api/security-issues/some-id", 16],
    ["POST", "/api/reports", 16],
    ["PATCH", "/api/me/notifications", 16],
    ["POST", "/api/integrations", 64],
    ["PATCH", "/api/integrations/some-id", 64],
    ["POST", "/api/integrations/test", 64],
    ["POST", "/api/integrations/some-id/deliveries/replay-dead", 16],
  ])("%s %s answers 413 past %i KiB, even unauthenticated", async (method, path, limitKiB) => {
    const res = await call(path, {
      method,
      headers: { "Content-Type": "application/json" },
      body: padded({}, limitKiB * KiB + 1),
    });
    expect(res.status).toBe(413);
  });

  it("lets bodies within the limit through to validation", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const res = await api(admin, "POST", "/api/integrations", {
      type: "webhook",
      name: "big but fine",
      settings: { url: "https://hooks.example.test/in", headers: [{ name: "X-Note", value: "y".repeat(40 * KiB) }] },
      events: {},
    });
    expect(res.status).not.toBe(413);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

// The hub is the test boundary every channel and delivery test relies on: check it records
// and answers as scripted when reached from inside workerd.
describe("receiver hub", () => {
  it("records requests and plays scripted answers in order", async () => {
    const bucket = `hub-${crypto.randomUUID()}`;
    await fetch(`${env.RECEIVER_URL}/_control/${bucket}/script`, {
      method: "POST",
      body: JSON.stringify({
        responses: [{ status: 503, headers: { "Retry-After": "7" } }],
        // biome-ignore lint/suspicious/noThenProperty: "then" is the hub's wire name for the fallback answer
        then: { status: 204 },
      }),
    });
    const first = await fetch(`${env.RECEIVER_URL}/r/${bucket}/hook?x=1`, { method: "POST", body: "one" });
    const second = await fetch(`${env.RECEIVER_URL}/r/${bucket}/hook`, { method: "PUT", body: "two" });
    expect(first.status).toBe(503);
    expect(first.headers.get("Retry-After")).toBe("7");
    expect(second.status).toBe(204);
    const recorded = (await (await fetch(`${env.RECEIVER_URL}/_control/${bucket}/requests`)).json()) as {
      method: string;
      query: string;
      body: string;
    }[];
    expect(recorded.map((r) => [r.method, r.body])).toEqual([
      ["POST", "one"],
      ["PUT", "two"],
    ]);
    expect(recorded[0]?.query).toBe("?x=1");
  });
});

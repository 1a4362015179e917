/**
 * The receiver hub's control API (test/support/receiver-hub.ts), called from tests inside workerd,
 * which reach the hub only over HTTP at env.RECEIVER_URL.
 */
import { env } from "cloudflare:workers";
import type { ReceivedMail, RecordedRequest, ScriptedResponse } from "../support/hub-protocol.ts";

export type { ReceivedMail, RecordedRequest, ScriptedResponse };

/** A fresh bucket name, so each test reads only its own requests. */
export function bucketName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/** A destination URL that lands in `bucketName`. */
export function hubUrl(bucketName: string, suffix = ""): string {
  return `${env.RECEIVER_URL}/r/${bucketName}${suffix}`;
}

/** Queues the bucket's next answers; `then` answers once they are used up. */
export async function script(bucketName: string, responses: ScriptedResponse[], then?: ScriptedResponse) {
  const res = await fetch(`${env.RECEIVER_URL}/_control/${bucketName}/script`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ responses, then }),
  });
  if (!res.ok) throw new Error(`hub script failed: ${res.status}`);
}

export async function hubRequests(bucketName: string): Promise<RecordedRequest[]> {
  return (await (await fetch(`${env.RECEIVER_URL}/_control/${bucketName}/requests`)).json()) as RecordedRequest[];
}

/** Polls the hub until `bucketName` holds `count` requests (for objects driven by the real clock). */
export async function waitForRequests(bucketName: string, count: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const recorded = await hubRequests(bucketName);
    if (recorded.length >= count) return recorded;
    if (Date.now() > deadline) throw new Error(`expected ${count} requests in ${bucketName}, got ${recorded.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The mails the hub's SMTP server received for `address`. */
export async function mailTo(address: string): Promise<ReceivedMail[]> {
  return (await (
    await fetch(`${env.RECEIVER_URL}/_control/mail?to=${encodeURIComponent(address)}`)
  ).json()) as ReceivedMail[];
}

import { env } from "cloudflare:workers";
import type { RecordedRequest } from "../../support/vendor-contracts";

/** A fresh bucket of the receiver hub (test/support/receiver-hub.ts) per test. */
export function bucket(name: string): string {
  return `${name}-${crypto.randomUUID()}`;
}

export function hubUrl(bucketName: string, suffix = ""): string {
  return `${env.RECEIVER_URL}/r/${bucketName}${suffix}`;
}

export async function script(
  bucketName: string,
  responses: { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }[],
  then?: { status: number; headers?: Record<string, string>; body?: string },
): Promise<void> {
  const res = await fetch(`${env.RECEIVER_URL}/_control/${bucketName}/script`, {
    method: "POST",
    body: JSON.stringify({ responses, then }),
  });
  if (!res.ok) throw new Error(`script failed: ${res.status}`);
}

export async function requests(bucketName: string): Promise<RecordedRequest[]> {
  return (await (await fetch(`${env.RECEIVER_URL}/_control/${bucketName}/requests`)).json()) as RecordedRequest[];
}

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  attachments: { filename: string; contentType: string; size: number }[];
  raw: string;
}

export async function mailTo(address: string): Promise<ReceivedMail[]> {
  return (await (
    await fetch(`${env.RECEIVER_URL}/_control/mail?to=${encodeURIComponent(address)}`)
  ).json()) as ReceivedMail[];
}

/**
 * The receiver hub's control API as it travels on the wire (test/support/receiver-hub.ts serves
 * it; tests inside workerd call it through test/worker/hub.ts). Types only, no Node imports, so
 * both the Node and the workerd sides can share them.
 */

/** One scripted answer: POST /_control/<bucket>/script {"responses": [...], "then"?: {...}}. */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

/** GET /_control/<bucket>/requests → RecordedRequest[] */
export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
}

/** GET /_control/mail?to=<addr> → ReceivedMail[] (parsed by mailparser). */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  attachments: { filename: string; contentType: string; size: number }[];
  raw: string;
  receivedAt: number;
}

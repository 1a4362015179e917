/**
 * The receiver hub: real HTTP and SMTP receivers on 127.0.0.1 that tests point integrations at.
 *
 * HTTP: any request to /r/<bucket>/... is recorded and answered by the bucket's script
 * (default 200 {"ok":true}). Control endpoints under /_control let tests inside workerd (which
 * cannot reach Node objects) script answers and read what arrived:
 *   POST   /_control/<bucket>/script   {"responses":[{status, headers?, body?, delayMs?}], "then"?: {...}}
 *   GET    /_control/<bucket>/requests  → [{method, path, query, headers, body, receivedAt}]
 *   DELETE /_control/<bucket>           → forget the bucket
 * SMTP: a real smtp-server (no TLS, any auth accepted); messages parsed by mailparser:
 *   GET    /_control/mail?to=<addr>     → [{from, to, subject, text, html, headers, attachments, raw, receivedAt}]
 * `npm start` also runs it as the demo inbox: GET / lists the mails, /inbox/<n> shows one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { ReceivedMail, RecordedRequest, ScriptedResponse } from "./hub-protocol.ts";

export type { ReceivedMail, RecordedRequest, ScriptedResponse };

interface Bucket {
  queue: ScriptedResponse[];
  /** Answer once the queue is empty (the control API calls it "then"). */
  fallback: ScriptedResponse;
  requests: RecordedRequest[];
}

const DEFAULT_RESPONSE: ScriptedResponse = {
  status: 200,
  headers: { "Content-Type": "application/json" },
  body: '{"ok":true}',
};

export interface ReceiverHub {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  smtpPort: number;
  /** Destination URL for a bucket: `${url}/r/${bucket}${suffix}`. */
  urlFor(bucket: string, suffix?: string): string;
  script(bucket: string, responses: ScriptedResponse[], then?: ScriptedResponse): void;
  requests(bucket: string): RecordedRequest[];
  mail(to?: string): ReceivedMail[];
  /** Resolves when `bucket` has at least `count` requests, or rejects after `timeoutMs`. */
  waitForRequests(bucket: string, count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  waitForMail(to: string, count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(value));
}

async function poll<T>(read: () => T[], count: number, timeoutMs: number, what: string): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = read();
    if (items.length >= count) return items;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} ${what}; got ${items.length}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface ReceiverHubOptions {
  /** Fixed ports (npm start's demo inbox); random free ports when absent. */
  httpPort?: number;
  smtpPort?: number;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The demo inbox page: received mails, newest first, each opening its HTML part. */
function inboxPage(mails: ReceivedMail[]): string {
  const rows = mails
    .map((m, i) => ({ m, i }))
    .reverse()
    .map(
      ({ m, i }) =>
        `<tr><td>${new Date(m.receivedAt).toLocaleString()}</td><td>${escapeHtml(m.to.join(", "))}</td>` +
        `<td><a href="/inbox/${i}">${escapeHtml(m.subject || "(no subject)")}</a></td>` +
        `<td>${m.attachments.map((a, k) => `<a href="/inbox/${i}/attachments/${k}">${escapeHtml(a.filename)}</a>`).join(" ")}</td></tr>`,
    )
    .join("");
  return `<!doctype html><meta charset="utf-8"><title>Herald demo inbox</title><h1>Herald demo inbox</h1><p>${mails.length} message(s). Reload to refresh.</p><table border="1" cellpadding="6"><tr><th>Received</th><th>To</th><th>Subject</th><th>Attachments</th></tr>${rows}</table>`;
}

export async function startReceiverHub(options: ReceiverHubOptions = {}): Promise<ReceiverHub> {
  const buckets = new Map<string, Bucket>();
  const mails: ReceivedMail[] = [];
  /** Attachment bytes, kept out of the JSON the control API returns. */
  const attachmentBytes: Buffer[][] = [];
  const bucket = (name: string) => {
    let b = buckets.get(name);
    if (!b) {
      b = { queue: [], fallback: DEFAULT_RESPONSE, requests: [] };
      buckets.set(name, b);
    }
    return b;
  };

  const http: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const body = await readBody(req);
      if (url.pathname === "/" || url.pathname === "/inbox") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        return res.end(inboxPage(mails));
      }
      const inbox = /^\/inbox\/(\d+)(?:\/attachments\/(\d+))?$/.exec(url.pathname);
      if (inbox) {
        const mail = mails[Number(inbox[1])];
        if (!mail) return sendJson(res, 404, { error: "no such mail" });
        if (inbox[2] !== undefined) {
          const meta = mail.attachments[Number(inbox[2])];
          const bytes = attachmentBytes[Number(inbox[1])]?.[Number(inbox[2])];
          if (!meta || !bytes) return sendJson(res, 404, { error: "no such attachment" });
          res.writeHead(200, { "Content-Type": meta.contentType });
          return res.end(bytes);
        }
        res.writeHead(200, {
          "Content-Type": "text/html; charset=utf-8",
          "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        });
        return res.end(mail.html || `<pre>${escapeHtml(mail.text)}</pre>`);
      }
      const control = /^\/_control\/([^/]+)(?:\/(script|requests))?$/.exec(url.pathname);
      if (url.pathname === "/_control/mail") {
        const to = url.searchParams.get("to");
        return sendJson(res, 200, to ? mails.filter((m) => m.to.includes(to.toLowerCase())) : mails);
      }
      if (control) {
        const [, name = "", action] = control;
        if (req.method === "DELETE" && !action) {
          buckets.delete(name);
          return sendJson(res, 200, { ok: true });
        }
        if (req.method === "POST" && action === "script") {
          const parsed = JSON.parse(body) as { responses?: ScriptedResponse[]; then?: ScriptedResponse };
          const b = bucket(name);
          b.queue = [...(parsed.responses ?? [])];
          if (parsed.then) b.fallback = parsed.then;
          return sendJson(res, 200, { ok: true });
        }
        if (req.method === "GET" && action === "requests") return sendJson(res, 200, bucket(name).requests);
        return sendJson(res, 404, { error: "unknown control call" });
      }
      const route = /^\/r\/([^/]+)(\/.*)?$/.exec(url.pathname);
      if (!route) return sendJson(res, 404, { error: "use /r/<bucket>/..." });
      const b = bucket(route[1] ?? "");
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : (v ?? "");
      b.requests.push({
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.search,
        headers,
        body,
        receivedAt: Date.now(),
      });
      const answer = b.queue.shift() ?? b.fallback;
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (res.destroyed) return;
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? "");
    } catch (error) {
      sendJson(res, 500, { error: String(error) });
    }
  });
  http.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => http.listen(options.httpPort ?? 0, "127.0.0.1", resolve));

  const smtp = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: "test" });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", async () => {
        const raw = Buffer.concat(chunks);
        try {
          const parsed = await simpleParser(raw);
          const headers: Record<string, string> = {};
          for (const line of parsed.headerLines) headers[line.key] = line.line.slice(line.line.indexOf(":") + 1).trim();
          attachmentBytes.push(parsed.attachments.map((a) => a.content));
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
            html: typeof parsed.html === "string" ? parsed.html : "",
            headers,
            attachments: parsed.attachments.map((a) => ({
              filename: a.filename ?? "",
              contentType: a.contentType,
              size: a.size,
            })),
            raw: raw.toString("utf8"),
            receivedAt: Date.now(),
          });
          callback();
        } catch (error) {
          callback(error as Error);
        }
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(options.smtpPort ?? 0, "127.0.0.1", resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  return {
    url,
    smtpPort,
    urlFor: (name, suffix = "") => `${url}/r/${name}${suffix}`,
    script(name, responses, then) {
      const b = bucket(name);
      b.queue = [...responses];
      if (then) b.fallback = then;
    },
    requests: (name) => bucket(name).requests,
    mail: (to) => (to ? mails.filter((m) => m.to.includes(to.toLowerCase())) : mails),
    waitForRequests: (name, count, timeoutMs = 10_000) =>
      poll(() => bucket(name).requests, count, timeoutMs, `requests in ${name}`),
    waitForMail: (to, count, timeoutMs = 10_000) =>
      poll(() => mails.filter((m) => m.to.includes(to.toLowerCase())), count, timeoutMs, `mails to ${to}`),
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}

import { connect } from "cloudflare:sockets";
import { base64 } from "../lib/ids";

/**
 * A small SMTP client (RFC 5321) over Workers TCP sockets: implicit TLS (465), STARTTLS
 * (required, never opportunistic: a server that does not offer it fails the send rather than
 * receiving credentials in clear) or plain ("none", for local development and tests only).
 * It sends a message already built by mime.ts, so both mail transports carry the same bytes.
 */

export type SmtpSecurity = "tls" | "starttls" | "none";

interface SmtpConfig {
  host: string;
  port: number;
  security: SmtpSecurity;
  user?: string;
  password?: string;
  /** Our name in EHLO: the domain of the sender address. */
  heloName: string;
  timeoutMs: number;
}

export class SmtpError extends Error {
  constructor(
    message: string,
    readonly kind: "status" | "network" | "timeout",
    /** The server's reply code (4xx temporary, 5xx permanent). */
    readonly code?: number,
  ) {
    super(message);
    this.name = "SmtpError";
  }
}

interface Reply {
  code: number;
  lines: string[];
}

class Connection {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private buffer = "";
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();

  constructor(private socket: Socket) {
    this.reader = socket.readable.getReader();
    this.writer = socket.writable.getWriter();
  }

  private async readLine(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf("\n");
      if (end >= 0) {
        const line = this.buffer.slice(0, end).replace(/\r$/, "");
        this.buffer = this.buffer.slice(end + 1);
        return line;
      }
      const { done, value } = await this.reader.read();
      if (done) throw new SmtpError("the server closed the connection", "network");
      this.buffer += this.decoder.decode(value, { stream: true });
      if (this.buffer.length > 64 * 1024) throw new SmtpError("reply line too long", "network");
    }
  }

  async reply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine();
      const match = /^(\d{3})([ -]?)(.*)$/.exec(line);
      if (!match) throw new SmtpError(`malformed reply: ${line.slice(0, 100)}`, "network");
      lines.push(match[3] ?? "");
      if (match[2] !== "-") return { code: Number(match[1]), lines };
    }
  }

  async write(text: string): Promise<void> {
    await this.writer.write(this.encoder.encode(text));
  }

  /** Sends a command and checks the reply's code class (2 = done, 3 = go on). */
  async command(line: string, expect: 2 | 3, shownAs = line): Promise<Reply> {
    await this.write(`${line}\r\n`);
    const reply = await this.reply();
    if (Math.floor(reply.code / 100) !== expect) {
      throw new SmtpError(
        `${shownAs.split(" ")[0]} → ${reply.code} ${reply.lines.join(" ")}`.slice(0, 300),
        "status",
        reply.code,
      );
    }
    return reply;
  }

  upgrade(host: string): void {
    this.reader.releaseLock();
    this.writer.releaseLock();
    this.socket = this.socket.startTls({ expectedServerHostname: host });
    this.reader = this.socket.readable.getReader();
    this.writer = this.socket.writable.getWriter();
    this.buffer = "";
  }

  async close(): Promise<void> {
    try {
      await this.socket.close();
    } catch {
      // already closed
    }
  }
}

/** Lines starting with "." get another "." (RFC 5321 §4.5.2); line endings become CRLF. */
function dotStuff(message: string): string {
  return message
    .replace(/\r?\n/g, "\r\n")
    .split("\r\n")
    .map((line) => (line.startsWith(".") ? `.${line}` : line))
    .join("\r\n");
}

function extensions(ehlo: Reply): Set<string> {
  return new Set(ehlo.lines.slice(1).map((line) => line.toUpperCase()));
}

function authMechanisms(ext: Set<string>): string[] {
  for (const line of ext) {
    if (line.startsWith("AUTH ") || line.startsWith("AUTH=")) return line.slice(5).split(/\s+/);
  }
  return [];
}

const utf8Base64 = (text: string) => base64(new TextEncoder().encode(text));

async function session(conn: Connection, config: SmtpConfig, from: string, to: string[], data: string) {
  const greeting = await conn.reply();
  if (greeting.code !== 220) throw new SmtpError(`greeting ${greeting.code}`, "status", greeting.code);
  let ext = extensions(await conn.command(`EHLO ${config.heloName}`, 2));
  if (config.security === "starttls") {
    if (!ext.has("STARTTLS")) throw new SmtpError("the server does not offer STARTTLS", "network");
    await conn.command("STARTTLS", 2);
    conn.upgrade(config.host);
    ext = extensions(await conn.command(`EHLO ${config.heloName}`, 2));
  }
  if (config.user) {
    const mechanisms = authMechanisms(ext);
    if (mechanisms.includes("PLAIN")) {
      await conn.command(`AUTH PLAIN ${utf8Base64(`\0${config.user}\0${config.password ?? ""}`)}`, 2, "AUTH");
    } else if (mechanisms.includes("LOGIN")) {
      await conn.command("AUTH LOGIN", 3);
      await conn.command(utf8Base64(config.user), 3, "AUTH");
      await conn.command(utf8Base64(config.password ?? ""), 2, "AUTH");
    } else {
      throw new SmtpError("the server offers no AUTH PLAIN or LOGIN", "network");
    }
  }
  await conn.command(`MAIL FROM:<${from}>`, 2);
  for (const rcpt of to) await conn.command(`RCPT TO:<${rcpt}>`, 2);
  await conn.command("DATA", 3);
  const body = dotStuff(data);
  await conn.write(`${body}${body.endsWith("\r\n") ? "" : "\r\n"}.\r\n`);
  const accepted = await conn.reply();
  if (accepted.code !== 250) {
    throw new SmtpError(`DATA → ${accepted.code} ${accepted.lines.join(" ")}`.slice(0, 300), "status", accepted.code);
  }
  await conn.write("QUIT\r\n").catch(() => {});
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** "none" is for local development: credentials never go in clear to a remote server. */
export function plaintextCredentialsProblem(config: Pick<SmtpConfig, "security" | "user" | "host">): string | null {
  return config.security === "none" && config.user && !LOOPBACK.has(config.host)
    ? "SMTP_SECURE=none with SMTP_USER set is only allowed for a loopback SMTP_HOST"
    : null;
}

/** Delivers one message to the SMTP server: one transaction, every recipient, then QUIT. */
export async function smtpSend(config: SmtpConfig, from: string, to: string[], data: string): Promise<void> {
  for (const address of [from, ...to]) {
    if (/[\s<>]/.test(address)) throw new SmtpError(`invalid address ${JSON.stringify(address)}`, "status", 501);
  }
  const socket = connect(
    { hostname: config.host, port: config.port },
    {
      secureTransport: config.security === "tls" ? "on" : config.security === "starttls" ? "starttls" : "off",
      allowHalfOpen: false,
    },
  );
  const conn = new Connection(socket);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SmtpError(`timed out after ${config.timeoutMs} ms`, "timeout")),
      config.timeoutMs,
    );
  });
  try {
    await Promise.race([session(conn, config, from, to, data), deadline]);
  } catch (error) {
    if (error instanceof SmtpError) throw error;
    throw new SmtpError(error instanceof Error ? error.message : String(error), "network");
  } finally {
    clearTimeout(timer);
    await conn.close();
  }
}

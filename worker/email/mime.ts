/**
 * A MIME message builder (RFC 5322, 2045–2047, 2183, 2231): multipart/alternative text + HTML,
 * optional attachments in multipart/mixed, UTF-8 everywhere. Both transports send exactly these
 * bytes, so what the SMTP tests check is what the send_email binding carries too.
 */
import { base64 } from "../lib/ids";

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
}

export interface MimeInput {
  from: { name?: string; address: string };
  to: string[];
  subject: string;
  text: string;
  html: string;
  attachments?: MailAttachment[];
  /** Extra headers (List-Unsubscribe, Auto-Submitted...). Values are single lines. */
  headers?: Record<string, string>;
  messageId: string;
  date?: Date;
}

const CRLF = "\r\n";

/** base64 in lines of 76 characters (RFC 2045 §6.8). */
function base64Lines(bytes: Uint8Array): string {
  const encoded = base64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines.join(CRLF);
}

const encoder = new TextEncoder();

/** A header value without line breaks or other control characters (no header injection). */
function headerSafe(value: string): string {
  return (
    value
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
      .replace(/[\u0000-\u001f\u007f]+/g, " ")
      // Lone surrogates cannot be encoded as UTF-8.
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")
      .trim()
  );
}

/**
 * RFC 2047 encoded words (UTF-8, base64) for a header text, each at most 75 characters and split
 * only between code points; folded onto continuation lines. ASCII text without "=?" stays readable.
 */
export function encodeHeaderText(text: string): string {
  const clean = headerSafe(text);
  if (/^[\x20-\x7e]*$/.test(clean) && !clean.includes("=?") && clean.length <= 900) return clean;
  const words: string[] = [];
  let chunk = "";
  for (const point of clean) {
    // 45 bytes of UTF-8 → 60 base64 characters + 12 of "=?UTF-8?B?" and "?=" = 72 ≤ 75.
    if (encoder.encode(chunk + point).length > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += point;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${base64(encoder.encode(w))}?=`).join(`${CRLF} `);
}

/** A display name as an RFC 5322 quoted string, or encoded words when not ASCII. */
function displayName(name: string): string {
  const clean = headerSafe(name);
  if (/^[\x20-\x7e]*$/.test(clean)) return `"${clean.replace(/["\\]/g, "\\$&")}"`;
  return encodeHeaderText(clean);
}

/** At most 60 code points, keeping the extension, so the header line stays far below 998 octets. */
function shortFileName(name: string): string {
  const points = Array.from(name);
  if (points.length <= 60) return name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : "";
  return points.slice(0, 60 - Array.from(extension).length).join("") + extension;
}

/** An ASCII file name for Content-Disposition; non-ASCII names use RFC 2231's filename*. */
function fileNameParams(name: string): string {
  const clean = shortFileName(headerSafe(name).replace(/["\\]/g, "_") || "attachment");
  if (/^[\x20-\x7e]+$/.test(clean)) return `filename="${clean}"`;
  const ascii = clean.replace(/[^\x20-\x7e]/g, "_");
  return `filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(clean)}`;
}

function boundary(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `=_herald_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** RFC 5322 date: "Sun, 29 Nov 2026 10:00:00 +0000". */
function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}

function textPart(contentType: string, content: string): string {
  return [
    `Content-Type: ${contentType}; charset=utf-8`,
    "Content-Transfer-Encoding: base64",
    "",
    base64Lines(encoder.encode(content.replace(/\r?\n/g, CRLF))),
  ].join(CRLF);
}

function attachmentPart(attachment: MailAttachment): string {
  const params = fileNameParams(attachment.filename);
  return [
    `Content-Type: ${headerSafe(attachment.contentType)}; ${params.replace("filename", "name")}`,
    "Content-Transfer-Encoding: base64",
    `Content-Disposition: attachment; ${params}`,
    "",
    base64Lines(attachment.content),
  ].join(CRLF);
}

function multipart(subtype: string, parts: string[]): string {
  const b = boundary();
  return [
    `Content-Type: multipart/${subtype}; boundary="${b}"`,
    "",
    ...parts.flatMap((part) => [`--${b}`, part]),
    `--${b}--`,
    "",
  ].join(CRLF);
}

/** The full message: headers and body, CRLF line endings, every line ≤ 998 octets. */
export function buildMime(input: MimeInput): string {
  const from = input.from.name
    ? `${displayName(input.from.name)} <${headerSafe(input.from.address)}>`
    : headerSafe(input.from.address);
  const headers = [
    `From: ${from}`,
    `To: ${input.to.map(headerSafe).join(`,${CRLF} `)}`,
    `Subject: ${encodeHeaderText(input.subject)}`,
    `Date: ${rfc5322Date(input.date ?? new Date())}`,
    `Message-ID: ${headerSafe(input.messageId)}`,
    "MIME-Version: 1.0",
    ...Object.entries(input.headers ?? {}).map(([name, value]) => `${headerSafe(name)}: ${headerSafe(value)}`),
  ];
  const alternative = multipart("alternative", [textPart("text/plain", input.text), textPart("text/html", input.html)]);
  const body = input.attachments?.length
    ? multipart("mixed", [alternative, ...input.attachments.map(attachmentPart)])
    : alternative;
  return `${headers.join(CRLF)}${CRLF}${body}`;
}

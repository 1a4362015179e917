/**
 * Text helpers shared by the renderers: cleaning event strings, escaping for each markup, and
 * cutting to vendor limits without splitting a UTF-16 surrogate pair or an escape sequence.
 * Lengths are measured in UTF-16 code units (JavaScript `length`), which is never less than the
 * code-point or character count vendors use, so a cut text is within every vendor's limit.
 */

const ELLIPSIS = "…";

/**
 * Replaces lone surrogates with U+FFFD and removes control characters (C0 except tab and newline,
 * DEL, C1) and bidirectional overrides, which could make a message display something it does not say.
 */
export function clean(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
      } else out += "\ufffd";
      continue;
    }
    if (code >= 0xdc00 && code <= 0xdfff) {
      out += "\ufffd";
      continue;
    }
    if (code === 0x09 || code === 0x0a) out += text[i];
    else if (code === 0x0d) continue;
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) continue;
    else if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) continue;
    else out += text[i];
  }
  return out;
}

/** Cleans and flattens to one line (for subjects, titles and header values). */
export function oneLine(text: string): string {
  return clean(text).replace(/[\t\n]+/g, " ");
}

/** Splits into code points (never halves a surrogate pair). */
function codePoints(text: string): string[] {
  return Array.from(text);
}

/**
 * Escapes each code point of `text` and keeps as many as fit in `max` code units after escaping,
 * followed by an ellipsis when anything was cut. An escape is added whole or not at all.
 */
export function escapeAndCut(text: string, max: number, escapeChar: (codePoint: string) => string = (c) => c): string {
  const points = codePoints(text);
  const pieces = points.map(escapeChar);
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (total <= max) return pieces.join("");
  const budget = max - ELLIPSIS.length;
  let used = 0;
  let out = "";
  for (const piece of pieces) {
    if (used + piece.length > budget) break;
    out += piece;
    used += piece.length;
  }
  return out + ELLIPSIS;
}

/** Cuts plain text to `max` code units on a code-point boundary. */
export function cut(text: string, max: number): string {
  return escapeAndCut(text, max);
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** One code point escaped for HTML text and attribute values (email, Telegram HTML). */
export function escapeHtmlChar(char: string): string {
  return HTML_ESCAPES[char] ?? char;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const SLACK_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** One code point escaped for Slack mrkdwn (Slack documents exactly these three). */
export function escapeSlackChar(char: string): string {
  return SLACK_ESCAPES[char] ?? char;
}

/** A piece of markup around one event string: `before` and `after` are trusted markup. */
export interface MarkupPart {
  before: string;
  value: string;
  after: string;
  /** Keep the part even when it must be cut to a few characters (headlines, links). */
  required?: boolean;
}

/**
 * Assembles parts within `max` code units: each value is escaped with `escapeChar` and cut on a
 * code point boundary (never inside an escape), the markup around it stays whole. Parts that no
 * longer fit are dropped (required parts are kept, cut); `required` parts are budgeted first.
 */
export function fitParts(parts: MarkupPart[], max: number, escapeChar: (c: string) => string, joiner = "\n"): string {
  const rendered = parts.map((p) => p.before + Array.from(p.value, escapeChar).join("") + p.after);
  const total = rendered.reduce((sum, r) => sum + r.length, 0) + joiner.length * Math.max(0, parts.length - 1);
  if (total <= max) return rendered.join(joiner);

  // Reserve room for the required parts (at their full size, or what remains), then fill in order.
  const requiredSize = parts.reduce((sum, p, i) => (p.required ? sum + rendered[i]!.length + joiner.length : sum), 0);
  let optionalBudget = Math.max(0, max - requiredSize);
  let used = 0;
  const out: string[] = [];
  parts.forEach((part, i) => {
    const frame = part.before.length + part.after.length + (out.length ? joiner.length : 0);
    const remaining = max - used;
    let room: number;
    if (part.required) {
      const laterRequired = parts
        .slice(i + 1)
        .reduce(
          (sum, p, j) => (p.required ? sum + Math.min(rendered[i + 1 + j]!.length, 200) + joiner.length : sum),
          0,
        );
      room = remaining - laterRequired - frame;
    } else {
      room = Math.min(remaining, optionalBudget) - frame;
    }
    if (room < (part.required ? 1 : ELLIPSIS.length + 8)) return;
    const value = escapeAndCut(part.value, room, escapeChar);
    const piece = (out.length ? joiner : "") + part.before + value + part.after;
    out.push(part.before + value + part.after);
    used += piece.length;
    if (!part.required) optionalBudget -= piece.length;
  });
  return out.join(joiner);
}

/** Every string inside a JSON-like value cut to `max` code units (for vendors' payload size limits). */
export function capStrings<T>(value: T, max: number): T {
  if (typeof value === "string") return cut(value, max) as T;
  if (Array.isArray(value)) return value.map((item) => capStrings(item, max)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, capStrings(v, max)])) as T;
  }
  return value;
}

import { z } from "zod";

/**
 * Building blocks of the channels' settings schemas. Deployment rules on destination URLs
 * (https only unless ALLOW_HTTP_DESTINATIONS, no private addresses in production) are checked by
 * the integrations API on every key a channel lists in `urlFields`; these schemas only check shape.
 */
export const destinationUrl = z
  .string()
  .trim()
  .max(2048)
  .pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }))
  // The refinements run even when the pipe above failed, so they must not assume a parsable URL
  // (an unparsable one is already reported by z.url()).
  .refine((value) => {
    const url = parseUrl(value);
    return !url || (url.username === "" && url.password === "");
  }, "must not carry credentials")
  .refine((value) => (parseUrl(value)?.hash ?? "") === "", "must not have a #fragment");

function parseUrl(value: string): URL | null {
  return URL.canParse(value) ? new URL(value) : null;
}

export const emailAddress = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ error: "must be an email address" }));

/** An opaque credential: printable ASCII, no spaces (keys and tokens are pasted, often with a trailing newline). */
export function credential(min: number, max: number, pattern = /^[\x21-\x7e]+$/) {
  return z.string().trim().min(min).max(max).regex(pattern, { error: "has an invalid format" });
}

/** Free text for labels such as a Splunk source: no control characters. */
export function label(max: number) {
  return (
    z
      .string()
      .trim()
      .min(1)
      .max(max)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
      .regex(/^[^\u0000-\u001f\u007f]+$/, { error: "must not contain control characters" })
  );
}

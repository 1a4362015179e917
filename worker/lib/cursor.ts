import { ApiError } from "./errors";
import { base64url, fromBase64 } from "./ids";

/**
 * Keyset cursors for lists ordered by a time and then a text key (the last row of a page):
 * stable while new rows arrive, no OFFSET scans. The key may contain any character.
 */
export function encodeCursor(time: number, key: string): string {
  return base64url(new TextEncoder().encode(`${time}|${key}`));
}

export function decodeCursor(cursor: string): { time: number; key: string } {
  try {
    const text = new TextDecoder().decode(fromBase64(cursor));
    const separator = text.indexOf("|");
    const time = Number(text.slice(0, separator));
    const key = text.slice(separator + 1);
    if (separator > 0 && Number.isSafeInteger(time) && key) return { time, key };
  } catch {
    // falls through to the validation error
  }
  throw new ApiError(400, "validation_failed", "Invalid cursor: use next_cursor from the previous page.", [
    { field: "cursor", message: "Not a cursor from this API." },
  ]);
}

/**
 * A page of a list read with `limit + 1` rows: the first `limit`, and the cursor after the last of
 * them when there was one more.
 */
export function keysetPage<Row>(
  rows: Row[],
  limit: number,
  keyOf: (row: Row) => [time: number, key: string],
): { page: Row[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(...keyOf(last)) : null };
}

import { ApiError } from "../lib/errors";

const tooLarge = (maxBytes: number) =>
  new ApiError(413, "payload_too_large", `The body exceeds ${maxBytes} bytes (1 MiB); send fewer events per request.`);

/** Refuses from the headers alone, before anything is read or queried. */
export function checkIngestHeaders(request: Request, maxBytes: number): void {
  const contentType = request.headers.get("Content-Type") ?? "";
  if (contentType.split(";")[0]?.trim().toLowerCase() !== "application/json") {
    throw new ApiError(415, "unsupported_media_type", "Send the events as Content-Type: application/json.");
  }
  const declared = request.headers.get("Content-Length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

/**
 * Reads and parses the JSON body, counting the bytes actually received: Content-Length may be
 * absent (chunked) or lie, and the limit must hold either way. Stops reading at the limit.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  if (!request.body) throw new ApiError(400, "invalid_json", 'The body is empty; send {"events": [...]}.');
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = chunks.length === 1 ? (chunks[0] as Uint8Array) : concat(chunks, received);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new ApiError(400, "invalid_json", "The body is not valid UTF-8 JSON.");
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

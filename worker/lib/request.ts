/** The client address as Cloudflare reports it (CF-Connecting-IP), or "unknown" locally. */
export function clientIp(request: Request): string {
  return request.headers.get("CF-Connecting-IP") ?? request.headers.get("X-Real-IP") ?? "unknown";
}

/**
 * The client address as Cloudflare reports it (CF-Connecting-IP), or "unknown" locally. No other
 * header is trusted: a client sets X-Real-IP or X-Forwarded-For itself, and could steer rate
 * limits and the audit log with them.
 */
export function clientIp(request: Request): string {
  return request.headers.get("CF-Connecting-IP") ?? "unknown";
}

/**
 * A signed-in API session for Node scripts and tests: the session cookie, and the CSRF token every
 * state-changing request must echo (what a browser does).
 */
export interface ApiSession {
  cookie: string;
  csrf: string;
  /** Calls the API with the session, CSRF header on writes, JSON in and out. */
  call<T = any>(method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export async function signIn(baseUrl: string, email: string, password: string): Promise<ApiSession> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  const { csrf_token: csrf } = (await res.json()) as { csrf_token: string };
  return {
    cookie,
    csrf,
    async call(method, apiPath, body) {
      const headers: Record<string, string> = { Cookie: cookie };
      if (method !== "GET") headers["X-CSRF-Token"] = csrf;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const answer = await fetch(`${baseUrl}${apiPath}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await answer.text();
      return { status: answer.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

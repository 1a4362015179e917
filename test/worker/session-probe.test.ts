import { describe, expect, it } from "vitest";
import { api, call, json, login, seedAccount } from "./helpers";

describe("GET /api/auth/session (the UI's start-up probe)", () => {
  it("answers 200 signed_in: false without a session, or with one that is no longer valid", async () => {
    const none = await call("/api/auth/session");
    expect(none.status).toBe(200);
    expect(await json(none)).toEqual({ signed_in: false });

    const stale = await call("/api/auth/session", { headers: { Cookie: "herald_session=hs_forged" } });
    expect(stale.status).toBe(200);
    expect(await json(stale)).toEqual({ signed_in: false });

    const acme = await seedAccount();
    const session = await login(acme.users.admin.email);
    expect((await api(session, "POST", "/api/auth/logout")).status).toBe(204);
    expect(await json(await api(session, "GET", "/api/auth/session"))).toEqual({ signed_in: false });
  });

  it("answers who is signed in, as /api/me does", async () => {
    const acme = await seedAccount();
    const session = await login(acme.users.analyst.email);
    const probe = await json(await api(session, "GET", "/api/auth/session"));
    expect(probe).toEqual({ signed_in: true, me: await json(await api(session, "GET", "/api/me")) });
    expect(probe.me.role).toBe("analyst");
    expect(probe.me.csrf_token).toBe(session.csrf);
  });
});

import type { ComponentType } from "preact";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { Spinner } from "./components/ui";
import { Layout } from "./layout";
import { call, client, onUnauthorized, setCsrfToken } from "./lib/api";
import { Link, matchPath, navigate, useLocation } from "./lib/router";
import { fetchMe, type Me, type Session, SessionContext } from "./lib/session";
import { LoginPage } from "./pages/login";
import { ChangePasswordForm } from "./pages/profile";
import { ROUTES } from "./routes";

type AuthState = { status: "loading" } | { status: "signed-out" } | { status: "signed-in"; me: Me };

export function App() {
  const [auth, setAuth] = useState<AuthState>({ status: "loading" });
  const location = useLocation();

  const signedIn = useCallback((me: Me) => {
    setCsrfToken(me.csrf_token);
    setAuth({ status: "signed-in", me });
  }, []);

  useEffect(() => {
    onUnauthorized(() => {
      setCsrfToken(null);
      setAuth({ status: "signed-out" });
    });
    // The session probe answers 200 either way: a visitor who is not signed in is no error to log.
    call(client.api.auth.session.$get())
      .then((probe) => (probe.signed_in ? signedIn(probe.me) : setAuth({ status: "signed-out" })))
      .catch(() => setAuth({ status: "signed-out" }));
  }, [signedIn]);

  const session = useMemo<Session | null>(() => {
    if (auth.status !== "signed-in") return null;
    return {
      me: auth.me,
      isAdmin: auth.me.role === "admin",
      refresh: async () => signedIn(await fetchMe()),
      signOut: async () => {
        try {
          await call(client.api.auth.logout.$post());
        } finally {
          setCsrfToken(null);
          setAuth({ status: "signed-out" });
          navigate("/login");
        }
      },
    };
  }, [auth, signedIn]);

  if (auth.status === "loading") return <Spinner label="Opening Herald…" />;

  if (auth.status === "signed-out" || !session) {
    return (
      <LoginPage
        onSignedIn={(me) => {
          signedIn(me);
          const next = new URLSearchParams(window.location.search).get("next");
          navigate(next?.startsWith("/") && !next.startsWith("//") ? next : homeFor(me), { replace: true });
        }}
      />
    );
  }

  if (location.path === "/" || location.path === "/login") {
    queueMicrotask(() => navigate(homeFor(session.me), { replace: true }));
    return null;
  }

  return (
    <SessionContext.Provider value={session}>
      <Layout>
        {session.me.user?.must_change_password ? (
          <MustChangePassword />
        ) : (
          <RoutedPage path={location.path} isAdmin={session.isAdmin} />
        )}
      </Layout>
    </SessionContext.Provider>
  );
}

const homeFor = (me: Me) => (me.role === "admin" ? "/integrations" : "/events");

function RoutedPage({ path, isAdmin }: { path: string; isAdmin: boolean }) {
  for (const route of ROUTES) {
    const params = matchPath(route.pattern, path);
    if (!params) continue;
    if (route.adminOnly && !isAdmin) return <Forbidden />;
    const Page = route.page as ComponentType<{ params: Record<string, string> }>;
    // keyed by path so a page's state resets when its id changes
    return <Page key={path} params={params} />;
  }
  return <NotFound />;
}

function MustChangePassword() {
  return (
    <section class="narrow">
      <h1>Choose a new password</h1>
      <p class="page-subtitle">
        Your password was set by an administrator. Choose your own before you continue; other sessions will be signed
        out.
      </p>
      <div class="card">
        <ChangePasswordForm />
      </div>
    </section>
  );
}

function Forbidden() {
  return (
    <section class="narrow">
      <h1>Administrators only</h1>
      <p>This page is for administrators of the account. Ask one of them if you need access.</p>
      <Link href="/events" class="btn">
        Go to events
      </Link>
    </section>
  );
}

function NotFound() {
  return (
    <section class="narrow">
      <h1>Page not found</h1>
      <p>The address may be mistyped, or the page was removed.</p>
      <Link href="/" class="btn">
        Go to the start page
      </Link>
    </section>
  );
}

import { useEffect, useState } from "preact/hooks";
import { describedBy, ErrorBanner, Field } from "../components/ui";
import { ApiError, call, client } from "../lib/api";
import type { Me } from "../lib/session";

export function LoginPage({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    document.title = "Sign in · Herald";
  }, []);
  const fields = error instanceof ApiError ? error.fieldErrors() : {};

  return (
    <div class="login">
      <form
        class="login-card"
        noValidate
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            onSignedIn(await call(client.api.auth.login.$post({ json: { email, password } })));
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="login-brand">
          <span class="brand-mark" aria-hidden="true">
            H
          </span>
          <span>Herald</span>
        </div>
        <h1>Sign in</h1>
        <p class="muted">Security notifications and reports for your team.</p>
        {error instanceof ApiError && Object.keys(fields).length === 0 ? <ErrorBanner error={error} /> : null}
        {error && !(error instanceof ApiError) ? <ErrorBanner error={error} /> : null}
        <Field id="login-email" label="Email" error={fields.email}>
          <input
            id="login-email"
            class="input"
            type="email"
            autoComplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            {...describedBy("login-email", fields.email)}
          />
        </Field>
        <Field id="login-password" label="Password" error={fields.password}>
          <input
            id="login-password"
            class="input"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            {...describedBy("login-password", fields.password)}
          />
        </Field>
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}

import { useEffect, useState } from "preact/hooks";
import { FormError, InputField, useSubmission } from "../components/form";
import { call, client } from "../lib/api";
import type { Me } from "../lib/session";

export function LoginPage({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const signIn = useSubmission(async () => {
    onSignedIn(await call(client.api.auth.login.$post({ json: { email, password } })));
  });
  useEffect(() => {
    document.title = "Sign in · Herald";
  }, []);

  return (
    <div class="login">
      <form class="login-card" noValidate onSubmit={signIn.submit}>
        <div class="login-brand">
          <span class="brand-mark" aria-hidden="true">
            H
          </span>
          <span>Herald</span>
        </div>
        <h1>Sign in</h1>
        <p class="muted">Security notifications and reports for your team.</p>
        <FormError submission={signIn} />
        <InputField
          id="login-email"
          label="Email"
          type="email"
          autoComplete="username"
          required
          error={signIn.fields.email}
          value={email}
          onValue={setEmail}
        />
        <InputField
          id="login-password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          error={signIn.fields.password}
          value={password}
          onValue={setPassword}
        />
        <button type="submit" class="btn btn-primary btn-block" disabled={signIn.busy}>
          {signIn.busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}

import { useState } from "preact/hooks";
import { describedBy, ErrorBanner, Field, Notice, PageHeader } from "../components/ui";
import { roleLabel } from "../layout";
import { ApiError, call, client } from "../lib/api";
import { viewerTimeZone } from "../lib/format";
import { useSession } from "../lib/session";
import { PersonalNotifications } from "./personal-notifications";

export function ProfilePage() {
  const { me } = useSession();
  return (
    <>
      <PageHeader title="Profile" subtitle="Your sign-in, your password and what Herald emails you." />
      <div class="grid-2">
        <section class="card">
          <h2>Account</h2>
          <dl class="facts">
            <dt>Name</dt>
            <dd>{me.user?.name || "—"}</dd>
            <dt>Email</dt>
            <dd>{me.user?.email}</dd>
            <dt>Role</dt>
            <dd>{roleLabel(me.role)}</dd>
            <dt>Organisation</dt>
            <dd>{me.account.name}</dd>
            <dt>Times shown in</dt>
            <dd>{viewerTimeZone()} (this browser)</dd>
          </dl>
        </section>
        <section class="card">
          <h2>Change password</h2>
          <ChangePasswordForm />
        </section>
      </div>
      <PersonalNotifications />
    </>
  );
}

export function ChangePasswordForm() {
  const { refresh } = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const fields = error instanceof ApiError ? error.fieldErrors() : {};
  const mismatch = confirm !== "" && confirm !== next ? "The two new passwords differ." : undefined;

  return (
    <form
      noValidate
      onSubmit={async (event) => {
        event.preventDefault();
        if (next !== confirm) return;
        setBusy(true);
        setError(null);
        setDone(false);
        try {
          await call(client.api.me.password.$post({ json: { current_password: current, new_password: next } }));
          setCurrent("");
          setNext("");
          setConfirm("");
          setDone(true);
          await refresh();
        } catch (e) {
          setError(e);
        } finally {
          setBusy(false);
        }
      }}
    >
      {done && <Notice kind="success">Password changed. Your other sessions were signed out.</Notice>}
      {error && Object.keys(fields).length === 0 ? <ErrorBanner error={error} /> : null}
      <Field id="pw-current" label="Current password" error={fields.current_password}>
        <input
          id="pw-current"
          class="input"
          type="password"
          autoComplete="current-password"
          value={current}
          onInput={(e) => setCurrent(e.currentTarget.value)}
          {...describedBy("pw-current", fields.current_password)}
        />
      </Field>
      <Field id="pw-new" label="New password" hint="At least 10 characters." error={fields.new_password}>
        <input
          id="pw-new"
          class="input"
          type="password"
          autoComplete="new-password"
          value={next}
          onInput={(e) => setNext(e.currentTarget.value)}
          {...describedBy("pw-new", fields.new_password)}
        />
      </Field>
      <Field id="pw-confirm" label="Repeat the new password" error={mismatch}>
        <input
          id="pw-confirm"
          class="input"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onInput={(e) => setConfirm(e.currentTarget.value)}
          {...describedBy("pw-confirm", mismatch)}
        />
      </Field>
      <button type="submit" class="btn btn-primary" disabled={busy || !current || !next || next !== confirm}>
        {busy ? "Saving…" : "Change password"}
      </button>
    </form>
  );
}

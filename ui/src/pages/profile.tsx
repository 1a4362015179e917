import { useState } from "preact/hooks";
import { FormError, InputField, useSubmission } from "../components/form";
import { Notice, PageHeader } from "../components/ui";
import { call, client } from "../lib/api";
import { roleLabel, viewerTimeZone } from "../lib/format";
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
  const [done, setDone] = useState(false);
  const change = useSubmission(async () => {
    setDone(false);
    await call(client.api.me.password.$post({ json: { current_password: current, new_password: next } }));
    setCurrent("");
    setNext("");
    setConfirm("");
    setDone(true);
    await refresh();
  });
  const mismatch = confirm !== "" && confirm !== next ? "The two new passwords differ." : undefined;

  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        if (next === confirm) void change.submit();
      }}
    >
      {done && <Notice kind="success">Password changed. Your other sessions were signed out.</Notice>}
      <FormError submission={change} />
      <InputField
        id="pw-current"
        label="Current password"
        type="password"
        autoComplete="current-password"
        error={change.fields.current_password}
        value={current}
        onValue={setCurrent}
      />
      <InputField
        id="pw-new"
        label="New password"
        hint="At least 10 characters."
        type="password"
        autoComplete="new-password"
        error={change.fields.new_password}
        value={next}
        onValue={setNext}
      />
      <InputField
        id="pw-confirm"
        label="Repeat the new password"
        type="password"
        autoComplete="new-password"
        error={mismatch}
        value={confirm}
        onValue={setConfirm}
      />
      <button type="submit" class="btn btn-primary" disabled={change.busy || !current || !next || next !== confirm}>
        {change.busy ? "Saving…" : "Change password"}
      </button>
    </form>
  );
}

import { useState } from "preact/hooks";
import { FormDialog, FormError, InputField, RoleOptions, useSubmission } from "../components/form";
import {
  ConfirmDialog,
  DataTable,
  EmptyState,
  ErrorBanner,
  Field,
  OneTimeSecretDialog,
  PageHeader,
  Spinner,
  Time,
} from "../components/ui";
import { call, client, type OkBody } from "../lib/api";
import { useSession } from "../lib/session";
import { useResource } from "../lib/use-resource";

type User = OkBody<Awaited<ReturnType<typeof client.api.users.$get>>>["users"][number];
type Role = User["role"];
const ROLE_OPTIONS: Role[] = ["admin", "analyst", "read_only"];

export function UsersPage() {
  const { me } = useSession();
  const users = useResource(() => call(client.api.users.$get()), []);
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<{ email: string; password: string } | null>(null);
  const [removing, setRemoving] = useState<User | null>(null);
  const [rowError, setRowError] = useState<unknown>(null);

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Who can sign in to this account. Administrators manage integrations, nodes and users; analysts and read-only users see events and reports."
        actions={
          <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
            Add user
          </button>
        }
      />
      <ErrorBanner error={users.error ?? rowError} retry={users.error ? users.reload : undefined} />
      {users.loading && !users.data ? (
        <Spinner />
      ) : users.data && users.data.users.length === 0 ? (
        <EmptyState title="No users yet" />
      ) : users.data ? (
        <DataTable
          columns={[{ label: "User" }, { label: "Role" }, { label: "Added" }, { label: "Actions", hidden: true }]}
        >
          {users.data.users.map((user) => (
            <tr key={user.id}>
              <td>
                <div class="cell-title">{user.name || user.email}</div>
                {user.name && <div class="muted small">{user.email}</div>}
                {user.must_change_password && <div class="muted small">Has not chosen a password yet</div>}
              </td>
              <td>
                <label class="sr-only" for={`role-${user.id}`}>
                  Role of {user.email}
                </label>
                <select
                  id={`role-${user.id}`}
                  class="input input-compact"
                  value={user.role}
                  disabled={user.id === me.user?.id}
                  onChange={async (e) => {
                    const role = e.currentTarget.value as Role;
                    setRowError(null);
                    try {
                      await call(client.api.users[":id"].$patch({ param: { id: user.id }, json: { role } }));
                    } catch (error) {
                      setRowError(error);
                    }
                    await users.reload();
                  }}
                >
                  <RoleOptions roles={ROLE_OPTIONS} />
                </select>
              </td>
              <td>
                <Time value={user.created_at} />
              </td>
              <td class="cell-actions">
                {user.id === me.user?.id ? (
                  <span class="muted small">You</span>
                ) : (
                  <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => setRemoving(user)}>
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}

      <AddUserDialog
        open={adding}
        onClose={() => setAdding(false)}
        onCreated={(email, password) => {
          setAdding(false);
          setCreated({ email, password });
          void users.reload();
        }}
      />
      <OneTimeSecretDialog
        title="User added"
        label="One-time password"
        value={created?.password ?? null}
        intro={
          <p>
            Give <strong>{created?.email}</strong> this one-time password. They will choose their own at first sign-in.
          </p>
        }
        onClose={() => setCreated(null)}
      />
      <ConfirmDialog
        open={removing !== null}
        title="Remove user?"
        body={
          <p>
            <strong>{removing?.email}</strong> will be signed out and can no longer sign in. Their personal email
            notifications stop.
          </p>
        }
        confirmLabel="Remove user"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await call(client.api.users[":id"].$delete({ param: { id: removing.id } }));
          await users.reload();
        }}
      />
    </>
  );
}

function AddUserDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (email: string, password: string) => void;
}) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("analyst");
  const add = useSubmission(async () => {
    const answer = await call(client.api.users.$post({ json: { email, name, role } }));
    setEmail("");
    setName("");
    onCreated(answer.user.email, answer.one_time_password);
  });
  return (
    <FormDialog
      open={open}
      title="Add user"
      onClose={onClose}
      submission={add}
      submitLabel="Add user"
      busyLabel="Adding…"
    >
      <FormError submission={add} />
      <InputField
        id="user-email"
        label="Email"
        type="email"
        error={add.fields.email}
        value={email}
        onValue={setEmail}
      />
      <InputField id="user-name" label="Name" hint="Optional." error={add.fields.name} value={name} onValue={setName} />
      <Field id="user-role" label="Role" error={add.fields.role}>
        <select id="user-role" class="input" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
          <RoleOptions roles={ROLE_OPTIONS} />
        </select>
      </Field>
    </FormDialog>
  );
}

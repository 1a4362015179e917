import { useState } from "preact/hooks";
import {
  ConfirmDialog,
  Dialog,
  describedBy,
  EmptyState,
  ErrorBanner,
  Field,
  OneTimeSecret,
  PageHeader,
  Spinner,
  Time,
} from "../components/ui";
import { roleLabel } from "../layout";
import { ApiError, call, client, type OkBody } from "../lib/api";
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
        <div class="table-wrap card card-flush">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Added</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
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
                      {ROLE_OPTIONS.map((role) => (
                        <option key={role} value={role}>
                          {roleLabel(role)}
                        </option>
                      ))}
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
            </tbody>
          </table>
        </div>
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
      <Dialog open={created !== null} title="User added" onClose={() => setCreated(null)}>
        {created && (
          <div class="dialog-body">
            <p>
              Give <strong>{created.email}</strong> this one-time password. They will choose their own at first sign-in.
            </p>
            <OneTimeSecret label="One-time password" value={created.password} />
          </div>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn btn-primary" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      </Dialog>
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fields = error instanceof ApiError ? error.fieldErrors() : {};
  return (
    <Dialog open={open} title="Add user" onClose={onClose}>
      <form
        noValidate
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const answer = await call(client.api.users.$post({ json: { email, name, role } }));
            setEmail("");
            setName("");
            onCreated(answer.user.email, answer.one_time_password);
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="dialog-body">
          {error && Object.keys(fields).length === 0 ? <ErrorBanner error={error} /> : null}
          <Field id="user-email" label="Email" error={fields.email}>
            <input
              id="user-email"
              class="input"
              type="email"
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
              {...describedBy("user-email", fields.email)}
            />
          </Field>
          <Field id="user-name" label="Name" hint="Optional." error={fields.name}>
            <input
              id="user-name"
              class="input"
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
              {...describedBy("user-name", fields.name)}
            />
          </Field>
          <Field id="user-role" label="Role" error={fields.role}>
            <select id="user-role" class="input" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              {ROLE_OPTIONS.map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? "Adding…" : "Add user"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

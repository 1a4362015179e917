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
import { roleLabel } from "../lib/format";
import { useResource } from "../lib/use-resource";

type ApiToken = OkBody<Awaited<ReturnType<typeof client.api.tokens.$get>>>["tokens"][number];
type Role = ApiToken["role"];
const ROLE_OPTIONS: Role[] = ["read_only", "analyst", "admin"];

export function ApiTokensPage() {
  const tokens = useResource(() => call(client.api.tokens.$get()), []);
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);

  return (
    <>
      <PageHeader
        title="API tokens"
        subtitle="Scripts call the API with a token instead of a session. A token never does more than the user who created it may do now, and stops working when that user is removed."
        actions={
          <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
            Create token
          </button>
        }
      />
      <ErrorBanner error={tokens.error} retry={tokens.reload} />
      {tokens.loading && !tokens.data ? (
        <Spinner />
      ) : tokens.data && tokens.data.tokens.length === 0 ? (
        <EmptyState title="No API tokens yet">
          <p>Create a token, then send it as Authorization: Bearer &lt;token&gt; to /api.</p>
        </EmptyState>
      ) : tokens.data ? (
        <DataTable
          columns={[
            { label: "Token" },
            { label: "Role" },
            { label: "Created by" },
            { label: "Last used" },
            { label: "Actions", hidden: true },
          ]}
        >
          {tokens.data.tokens.map((token) => (
            <tr key={token.id}>
              <td>
                <div class="cell-title">{token.name}</div>
                <div class="muted small">
                  <code>{token.token_prefix}…</code> · Created <Time value={token.created_at} />
                </div>
              </td>
              <td>{roleLabel(token.role)}</td>
              <td>
                {token.created_by ? (
                  <span title={token.created_by.email}>{token.created_by.name || token.created_by.email}</span>
                ) : (
                  <span class="muted">Unknown</span>
                )}
              </td>
              <td>
                {token.last_used_at ? <Time value={token.last_used_at} relative /> : <span class="muted">Never</span>}
              </td>
              <td class="cell-actions">
                <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => setRevoking(token)}>
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}

      <CreateTokenDialog
        open={adding}
        onClose={() => setAdding(false)}
        onCreated={(name, secret) => {
          setAdding(false);
          setCreated({ name, secret });
          void tokens.reload();
        }}
      />
      <OneTimeSecretDialog
        title="Token created"
        label="API token"
        value={created?.secret ?? null}
        intro={
          <p>
            Give <strong>{created?.name}</strong> this token as <code>Authorization: Bearer &lt;token&gt;</code>. It is
            shown only now.
          </p>
        }
        onClose={() => setCreated(null)}
      />
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke API token?"
        body={
          <p>
            <strong>{revoking?.name}</strong> will be refused at once (401).
          </p>
        }
        confirmLabel="Revoke token"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          await call(client.api.tokens[":id"].$delete({ param: { id: revoking.id } }));
          await tokens.reload();
        }}
      />
    </>
  );
}

function CreateTokenDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (name: string, secret: string) => void;
}) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("read_only");
  const create = useSubmission(async () => {
    const answer = await call(client.api.tokens.$post({ json: { name, role } }));
    setName("");
    onCreated(answer.token.name, answer.secret);
  });
  return (
    <FormDialog
      open={open}
      title="Create API token"
      onClose={onClose}
      submission={create}
      submitLabel="Create token"
      busyLabel="Creating…"
    >
      <FormError submission={create} />
      <InputField
        id="token-name"
        label="Name"
        hint="What uses it, for example: terraform."
        error={create.fields.name}
        value={name}
        onValue={setName}
      />
      <Field id="token-role" label="Role" error={create.fields.role}>
        <select id="token-role" class="input" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
          <RoleOptions roles={ROLE_OPTIONS} />
        </select>
      </Field>
    </FormDialog>
  );
}

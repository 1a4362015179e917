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
  StatusPill,
  Time,
} from "../components/ui";
import { ApiError, call, client, type OkBody } from "../lib/api";
import { formatNumber } from "../lib/format";
import { useResource } from "../lib/use-resource";

type Node = OkBody<Awaited<ReturnType<typeof client.api.nodes.$get>>>["nodes"][number];

export function NodesPage() {
  const nodes = useResource(() => call(client.api.nodes.$get()), []);
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = useState<Node | null>(null);

  return (
    <>
      <PageHeader
        title="Nodes"
        subtitle="Detection nodes post events to Herald with their own token. Revoke a token at once if it leaks."
        actions={
          <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
            Add node
          </button>
        }
      />
      <ErrorBanner error={nodes.error} retry={nodes.reload} />
      {nodes.loading && !nodes.data ? (
        <Spinner />
      ) : nodes.data && nodes.data.nodes.length === 0 ? (
        <EmptyState title="No nodes yet">
          <p>Add a node to get its token, then configure the node to post events to /v1/events.</p>
        </EmptyState>
      ) : nodes.data ? (
        <div class="table-wrap card card-flush">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Token</th>
                <th scope="col">Last seen</th>
                <th scope="col" class="num">
                  Events
                </th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {nodes.data.nodes.map((node) => (
                <tr key={node.id} class={node.revoked ? "row-muted" : ""}>
                  <td>
                    <div class="cell-title">{node.name}</div>
                    <div class="muted small">
                      Added <Time value={node.created_at} />
                    </div>
                  </td>
                  <td>
                    <code>{node.token_prefix}…</code>
                  </td>
                  <td>
                    {node.last_seen_at ? <Time value={node.last_seen_at} relative /> : <span class="muted">Never</span>}
                  </td>
                  <td class="num">{formatNumber(node.events_count)}</td>
                  <td class="cell-actions">
                    {node.revoked ? (
                      <StatusPill status="off">
                        Revoked <Time value={node.revoked_at} />
                      </StatusPill>
                    ) : (
                      <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => setRevoking(node)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <AddNodeDialog
        open={adding}
        onClose={() => setAdding(false)}
        onCreated={(name, token) => {
          setAdding(false);
          setCreated({ name, token });
          void nodes.reload();
        }}
      />
      <Dialog open={created !== null} title="Node added" onClose={() => setCreated(null)}>
        {created && (
          <div class="dialog-body">
            <p>
              Configure <strong>{created.name}</strong> to send <code>Authorization: Bearer &lt;token&gt;</code> with
              this token.
            </p>
            <OneTimeSecret label="Node token" value={created.token} />
          </div>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn btn-primary" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      </Dialog>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke node token?"
        body={
          <p>
            <strong>{revoking?.name}</strong> will be refused at once (401). Its past events are kept.
          </p>
        }
        confirmLabel="Revoke token"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          await call(client.api.nodes[":id"].$delete({ param: { id: revoking.id } }));
          await nodes.reload();
        }}
      />
    </>
  );
}

function AddNodeDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (name: string, token: string) => void;
}) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fields = error instanceof ApiError ? error.fieldErrors() : {};
  return (
    <Dialog open={open} title="Add node" onClose={onClose}>
      <form
        noValidate
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const answer = await call(client.api.nodes.$post({ json: { name } }));
            setName("");
            onCreated(answer.node.name, answer.token);
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="dialog-body">
          {error && Object.keys(fields).length === 0 ? <ErrorBanner error={error} /> : null}
          <Field id="node-name" label="Name" hint="For example: waf-eu-west-1." error={fields.name}>
            <input
              id="node-name"
              class="input"
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
              {...describedBy("node-name", fields.name)}
            />
          </Field>
        </div>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? "Adding…" : "Add node"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

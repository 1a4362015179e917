import { useState } from "preact/hooks";
import { FormDialog, FormError, InputField, useSubmission } from "../components/form";
import {
  ConfirmDialog,
  DataTable,
  EmptyState,
  ErrorBanner,
  OneTimeSecretDialog,
  PageHeader,
  Spinner,
  StatusPill,
  Time,
} from "../components/ui";
import { call, client, type OkBody } from "../lib/api";
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
        <DataTable
          columns={[
            { label: "Node" },
            { label: "Token" },
            { label: "Last seen" },
            { label: "Events", numeric: true },
            { label: "Actions", hidden: true },
          ]}
        >
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
        </DataTable>
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
      <OneTimeSecretDialog
        title="Node added"
        label="Node token"
        value={created?.token ?? null}
        intro={
          <p>
            Configure <strong>{created?.name}</strong> to send <code>Authorization: Bearer &lt;token&gt;</code> with
            this token.
          </p>
        }
        onClose={() => setCreated(null)}
      />
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
  const add = useSubmission(async () => {
    const answer = await call(client.api.nodes.$post({ json: { name } }));
    setName("");
    onCreated(answer.node.name, answer.token);
  });
  return (
    <FormDialog
      open={open}
      title="Add node"
      onClose={onClose}
      submission={add}
      submitLabel="Add node"
      busyLabel="Adding…"
    >
      <FormError submission={add} />
      <InputField
        id="node-name"
        label="Name"
        hint="For example: waf-eu-west-1."
        error={add.fields.name}
        value={name}
        onValue={setName}
      />
    </FormDialog>
  );
}

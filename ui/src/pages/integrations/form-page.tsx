import { useState } from "preact/hooks";
import { Dialog, ErrorBanner, OneTimeSecret, PageHeader, Spinner } from "../../components/ui";
import { call, client } from "../../lib/api";
import { Link, navigate, useLocation } from "../../lib/router";
import { useResource } from "../../lib/use-resource";
import type { CatalogType } from "./api-types";
import { IntegrationForm } from "./form";
import { SystemIcon } from "./system-icon";

const loadCatalog = () => call(client.api["integration-types"].$get());

/** Add integration: choose a system (unless the card chose it), then its form. */
export function IntegrationNewPage() {
  const { query } = useLocation();
  const catalog = useResource(loadCatalog, []);
  const [secret, setSecret] = useState<{ id: string; value: string } | null>(null);
  const chosen = catalog.data?.blocks.flatMap((b) => b.types).find((t) => t.type === query.get("type"));

  return (
    <>
      <p class="breadcrumb">
        <Link href="/integrations">Integrations</Link> /
      </p>
      <PageHeader
        title={chosen ? `Add ${chosen.title} integration` : "Add integration"}
        subtitle={chosen ? undefined : "Choose the system to send notifications and reports to."}
      />
      <ErrorBanner error={catalog.error} retry={catalog.reload} />
      {catalog.loading && !catalog.data ? (
        <Spinner />
      ) : chosen && !chosen.managed_by_user ? (
        <div class="narrow-form">
          <TypeHeading type={chosen} />
          <IntegrationForm
            type={chosen}
            onCancel={() => navigate("/integrations")}
            onSaved={({ integration, signingSecret }) => {
              if (signingSecret) setSecret({ id: integration.id, value: signingSecret });
              else navigate(`/integrations/${integration.id}`);
            }}
          />
        </div>
      ) : catalog.data ? (
        catalog.data.blocks.map((block) => (
          <section class="block" key={block.block}>
            <h2 class="block-title">{block.title}</h2>
            <div class="type-picker">
              {block.types
                .filter((t) => !t.managed_by_user)
                .map((t) => (
                  <button
                    type="button"
                    class="type-option"
                    key={t.type}
                    onClick={() => navigate(`/integrations/new?type=${t.type}`)}
                  >
                    <SystemIcon type={t.type} small />
                    <span>{t.title}</span>
                  </button>
                ))}
            </div>
          </section>
        ))
      ) : null}
      <Dialog
        open={secret !== null}
        title="Webhook signing secret"
        onClose={() => secret && navigate(`/integrations/${secret.id}`)}
      >
        {secret && (
          <div class="dialog-body">
            <p>
              Herald signs every request with this secret (Standard Webhooks). Configure your receiver to verify the{" "}
              <code>webhook-signature</code> header with it.
            </p>
            <OneTimeSecret label="Signing secret" value={secret.value} />
          </div>
        )}
        <div class="dialog-actions">
          <button
            type="button"
            class="btn btn-primary"
            onClick={() => secret && navigate(`/integrations/${secret.id}`)}
          >
            I have copied it
          </button>
        </div>
      </Dialog>
    </>
  );
}

function TypeHeading({ type }: { type: CatalogType }) {
  return (
    <div class="detail-head form-type">
      <SystemIcon type={type.type} />
      <div>
        <p class="system-card-title">{type.title}</p>
        <p class="system-card-counts">
          {type.batch_limit > 1
            ? `Up to ${type.batch_limit} notifications per request`
            : "One message per notification"}
          {" · "}
          <Link href="/integrations/new">Choose another system</Link>
        </p>
      </div>
    </div>
  );
}

export function IntegrationEditPage({ params }: { params: { id: string } }) {
  const data = useResource(async () => {
    const [catalog, answer] = await Promise.all([
      loadCatalog(),
      call(client.api.integrations[":id"].$get({ param: { id: params.id } })),
    ]);
    const type = catalog.blocks.flatMap((b) => b.types).find((t) => t.type === answer.integration.type);
    return { integration: answer.integration, type };
  }, [params.id]);

  return (
    <>
      <p class="breadcrumb">
        <Link href="/integrations">Integrations</Link> /{" "}
        {data.data && <Link href={`/integrations/${params.id}`}>{data.data.integration.name}</Link>}
      </p>
      <PageHeader title={data.data ? `Edit ${data.data.integration.name}` : "Edit integration"} />
      <ErrorBanner error={data.error} retry={data.reload} />
      {data.loading && !data.data ? (
        <Spinner />
      ) : data.data?.type ? (
        <div class="narrow-form">
          <IntegrationForm
            type={data.data.type}
            existing={data.data.integration}
            onCancel={() => navigate(`/integrations/${params.id}`)}
            onSaved={() => navigate(`/integrations/${params.id}`)}
          />
        </div>
      ) : null}
    </>
  );
}

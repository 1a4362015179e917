import { EmptyState, ErrorBanner, PageHeader, Spinner, StatusPill, Tabs } from "../../components/ui";
import { call, client } from "../../lib/api";
import { Link, navigate, setQuery, useLocation } from "../../lib/router";
import { useResource } from "../../lib/use-resource";
import type { CatalogType, Integration } from "./api-types";
import { SystemIcon } from "./system-icon";

type Tab = "all" | "active" | "disabled";
const TABS: { id: Tab; label: string }[] = [
  { id: "all", label: "All" },
  { id: "active", label: "Active" },
  { id: "disabled", label: "Disabled" },
];

/** Settings → Integrations: the three blocks of system cards (docs/channels.md#the-catalog, the seed's screen). */
export function IntegrationsPage() {
  const { query } = useLocation();
  const tab = (TABS.find((t) => t.id === query.get("tab"))?.id ?? "all") as Tab;
  const search = query.get("q") ?? "";
  const data = useResource(async () => {
    const [catalog, list] = await Promise.all([
      call(client.api["integration-types"].$get()),
      call(client.api.integrations.$get({ query: { status: "all" } })),
    ]);
    return { catalog, integrations: list.integrations };
  }, []);

  const needle = search.trim().toLowerCase();
  const blocks =
    data.data?.catalog.blocks
      .map((block) => ({
        ...block,
        cards: block.types
          .map((type) => cardFor(type, data.data!.integrations, tab, needle))
          .filter((card): card is Card => card !== null),
      }))
      .filter((block) => block.cards.length > 0) ?? [];

  return (
    <>
      <PageHeader
        title="Integrations"
        subtitle="Where Herald sends instant notifications and scheduled security reports. Add as many integrations per system as you need."
        actions={
          <Link href="/integrations/new" class="btn btn-primary">
            Add integration
          </Link>
        }
      />
      <div class="toolbar">
        <Tabs
          label="Filter integrations"
          tabs={TABS.map((t) => ({
            id: t.id,
            label: `${t.label}${data.data && t.id !== "all" ? ` (${countFor(data.data.integrations, t.id)})` : ""}`,
          }))}
          selected={tab}
          onSelect={(id) => setQuery({ tab: id === "all" ? undefined : id })}
        />
        <div class="search">
          <label for="integration-search" class="sr-only">
            Search by system or integration name
          </label>
          <input
            id="integration-search"
            class="input"
            type="search"
            placeholder="Search by system or name"
            value={search}
            onInput={(e) => setQuery({ q: e.currentTarget.value || undefined })}
          />
        </div>
      </div>
      <ErrorBanner error={data.error} retry={data.reload} />
      {data.loading && !data.data ? (
        <Spinner label="Loading integrations…" />
      ) : data.data && blocks.length === 0 ? (
        <EmptyState
          title={
            needle
              ? `Nothing matches “${search}”`
              : tab === "active"
                ? "No active integrations"
                : "No disabled integrations"
          }
        >
          {needle ? (
            <button type="button" class="btn" onClick={() => setQuery({ q: undefined })}>
              Clear the search
            </button>
          ) : tab === "active" ? (
            <Link href="/integrations/new" class="btn btn-primary">
              Add integration
            </Link>
          ) : (
            <p>Integrations you disable, or that Herald disables after repeated failures, appear here.</p>
          )}
        </EmptyState>
      ) : (
        blocks.map((block) => (
          <section class="block" key={block.block} aria-labelledby={`block-${block.block}`}>
            <h2 class="block-title" id={`block-${block.block}`}>
              {block.title}
            </h2>
            <div class="system-grid">
              {block.cards.map((card) => (
                <SystemCard key={card.type.type} card={card} />
              ))}
            </div>
          </section>
        ))
      )}
    </>
  );
}

interface Card {
  type: CatalogType;
  /** Integrations of this type shown on the card (filtered by tab and search). */
  integrations: Integration[];
}

function countFor(all: Integration[], tab: Tab): number {
  return all.filter((i) => (tab === "active" ? i.status === "enabled" : i.status === "disabled")).length;
}

function cardFor(type: CatalogType, all: Integration[], tab: Tab, needle: string): Card | null {
  let mine = all.filter((i) => i.type === type.type);
  if (tab === "active") mine = mine.filter((i) => i.status === "enabled");
  if (tab === "disabled") mine = mine.filter((i) => i.status === "disabled");
  if (needle && !type.title.toLowerCase().includes(needle) && !type.type.includes(needle)) {
    mine = mine.filter((i) => i.name.toLowerCase().includes(needle));
    if (mine.length === 0) return null;
  }
  // Active and Disabled list configured integrations only; All also offers unconfigured systems.
  if (tab !== "all" && mine.length === 0) return null;
  return { type, integrations: mine };
}

function countsText(type: CatalogType): string {
  const { enabled, disabled } = type.counts;
  if (enabled + disabled === 0) return "Not configured";
  const parts = [];
  if (enabled) parts.push(`${enabled} active`);
  if (disabled) parts.push(`${disabled} disabled`);
  return parts.join(", ");
}

function SystemCard({ card }: { card: Card }) {
  const { type, integrations } = card;
  const configured = type.counts.enabled + type.counts.disabled > 0;
  const addHref = type.managed_by_user ? "/profile" : `/integrations/new?type=${type.type}`;

  if (!configured && integrations.length === 0) {
    return (
      <button
        type="button"
        class="system-card system-card-unconfigured"
        onClick={() => navigate(addHref)}
        aria-label={
          type.managed_by_user ? `${type.title}: set it up in your profile` : `Add a ${type.title} integration`
        }
      >
        <div class="system-card-head">
          <SystemIcon type={type.type} />
          <div>
            <p class="system-card-title">{type.title}</p>
            <p class="system-card-counts">
              {type.managed_by_user ? "Set up in each user's profile" : "Not configured · Add"}
            </p>
          </div>
        </div>
      </button>
    );
  }

  return (
    <article class="system-card" aria-label={type.title}>
      <div class="system-card-head">
        <SystemIcon type={type.type} />
        <div>
          <h3 class="system-card-title">{type.title}</h3>
          <p class="system-card-counts">{countsText(type)}</p>
        </div>
      </div>
      {integrations.length > 0 && (
        <ul class="integration-list">
          {integrations.map((integration) => (
            <li key={integration.id}>
              <Link href={`/integrations/${integration.id}`} title={integration.name}>
                {integration.name}
              </Link>
              {integration.status === "enabled" ? (
                <StatusPill status="ok">Active</StatusPill>
              ) : (
                <StatusPill status={integration.disabled_reason === "manual" ? "off" : "bad"}>
                  {integration.disabled_reason === "manual" ? "Disabled" : "Auto-disabled"}
                </StatusPill>
              )}
            </li>
          ))}
        </ul>
      )}
      <div class="system-card-foot">
        {type.managed_by_user ? (
          <Link href="/profile" class="btn btn-small">
            Your subscriptions
          </Link>
        ) : (
          <Link href={addHref} class="btn btn-small" aria-label={`Add a ${type.title} integration`}>
            Add
          </Link>
        )}
      </div>
    </article>
  );
}

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { Link, navigate } from "../lib/router";
import type { NameOf } from "../lib/rule-text";
import { useSession } from "../lib/session";
import { type AccountChoices, loadAccountChoices } from "../lib/triggers-api";
import { type Resource, useResource } from "../lib/use-resource";
import { type Submission, useSubmission } from "./form";
import { ConfirmDialog, ErrorBanner, Notice, PageHeader, Spinner, Time } from "./ui";

/** Pieces the Triggers and Silences pages share: every role reads them, only admins change them. */

/** Where a collection's pages live, and what one of its rules is called ("trigger"). */
export interface RuleCollection {
  listHref: string;
  listTitle: string;
  noun: string;
}

export const TRIGGERS: RuleCollection = { listHref: "/triggers", listTitle: "Triggers", noun: "trigger" };
export const SILENCES: RuleCollection = { listHref: "/silences", listTitle: "Silences", noun: "silence" };

export interface Choices {
  /** The admin's integrations and nodes; null for other roles, who may read neither. */
  resource: Resource<AccountChoices | null>;
  /** Loaded (or failed): names are shown at once rather than ids first and names a moment later. */
  settled: boolean;
  integrationName: NameOf;
  nodeName: NameOf;
}

export function useAccountChoices(): Choices {
  const { isAdmin } = useSession();
  const resource = useResource(() => loadAccountChoices(isAdmin), [isAdmin]);
  const choices = resource.data;
  return {
    resource,
    settled: choices !== undefined || resource.error !== undefined,
    integrationName: (id) => choices?.integrations.find((i) => i.id === id)?.name,
    nodeName: (id) => choices?.nodes.find((n) => n.id === id)?.name,
  };
}

/** A list page's header; admins also get the button that creates one. */
export function RuleListHeader({
  title,
  subtitle,
  newHref,
  newLabel,
}: {
  title: string;
  subtitle: string;
  newHref: string;
  newLabel: string;
}) {
  const { isAdmin } = useSession();
  return (
    <PageHeader
      title={title}
      subtitle={subtitle}
      actions={
        isAdmin && (
          <Link href={newHref} class="btn btn-primary">
            {newLabel}
          </Link>
        )
      }
    />
  );
}

/** Who created a rule and when, and when it last changed: a detail page's subtitle. */
export function RuleStamp({ rule }: { rule: { created_at: string; created_by: string; updated_at: string } }) {
  return (
    <span class="muted small">
      Created <Time value={rule.created_at} /> by {rule.created_by} · updated <Time value={rule.updated_at} />
    </span>
  );
}

/** A detail page: breadcrumb, heading, and for admins Edit and Delete (asked first). */
export function RuleDetail<T extends { name: string }>({
  collection: { listHref, listTitle, noun },
  id,
  resource,
  choices,
  onDelete,
  subtitle,
  children,
}: {
  collection: RuleCollection;
  id: string;
  resource: Resource<T>;
  choices: Choices;
  onDelete: () => Promise<void>;
  subtitle?: (item: T) => ComponentChildren;
  children: (item: T) => ComponentChildren;
}) {
  const { isAdmin } = useSession();
  const [deleting, setDeleting] = useState(false);
  const item = resource.data;
  return (
    <>
      <p class="breadcrumb">
        <Link href={listHref}>{listTitle}</Link> /
      </p>
      {(resource.loading && !item) || !choices.settled ? (
        <Spinner />
      ) : !item ? (
        <ErrorBanner error={resource.error} retry={resource.reload} />
      ) : (
        <>
          <PageHeader
            title={item.name}
            subtitle={subtitle?.(item)}
            actions={
              isAdmin && (
                <>
                  <Link href={`${listHref}/${id}/edit`} class="btn">
                    Edit
                  </Link>
                  <button type="button" class="btn btn-danger-ghost" onClick={() => setDeleting(true)}>
                    Delete
                  </button>
                </>
              )
            }
          />
          <section class="card">{children(item)}</section>
          <ConfirmDialog
            open={deleting}
            title={`Delete ${noun}?`}
            body={
              <p>
                <strong>{item.name}</strong> is deleted for good. The deletion is kept in the audit log.
              </p>
            }
            confirmLabel={`Delete ${noun}`}
            onClose={() => setDeleting(false)}
            onConfirm={async () => {
              await onDelete();
              navigate(listHref);
            }}
          />
        </>
      )}
    </>
  );
}

/** The new/edit page around a form: breadcrumb, heading, and the data the form needs. */
export function RuleFormPage<T>({
  title,
  listHref,
  listTitle,
  resource,
  children,
}: {
  title: string;
  listHref: string;
  listTitle: string;
  resource: Resource<T>;
  children: (data: T) => ComponentChildren;
}) {
  return (
    <>
      <p class="breadcrumb">
        <Link href={listHref}>{listTitle}</Link> /
      </p>
      <PageHeader title={title} />
      <ErrorBanner error={resource.error} retry={resource.reload} />
      {resource.loading && !resource.data ? (
        <Spinner />
      ) : resource.data !== undefined ? (
        <div class="narrow-form">{children(resource.data)}</div>
      ) : null}
    </>
  );
}

/** The page that creates a rule: the admin's integrations and nodes, then the form. */
export function RuleNewPage({
  collection: { listHref, listTitle, noun },
  form,
}: {
  collection: RuleCollection;
  form: (choices: AccountChoices) => ComponentChildren;
}) {
  // Only admins reach this page, so the choices are never null here.
  const data = useResource(() => loadAccountChoices(true), []);
  return (
    <RuleFormPage title={`New ${noun}`} listHref={listHref} listTitle={listTitle} resource={data}>
      {(choices) => choices && form(choices)}
    </RuleFormPage>
  );
}

/** The page that changes a rule: the admin's choices and the rule, loaded together, then the form. */
export function RuleEditPage<T extends { name: string }>({
  collection: { listHref, listTitle, noun },
  id,
  load,
  form,
}: {
  collection: RuleCollection;
  id: string;
  load: (id: string) => Promise<T>;
  form: (choices: AccountChoices, existing: T) => ComponentChildren;
}) {
  const data = useResource(async () => {
    const [choices, rule] = await Promise.all([loadAccountChoices(true), load(id)]);
    return { choices, rule };
  }, [id]);
  return (
    <RuleFormPage
      title={data.data ? `Edit ${data.data.rule.name}` : `Edit ${noun}`}
      listHref={listHref}
      listTitle={listTitle}
      resource={data}
    >
      {({ choices, rule }) => choices && form(choices, rule)}
    </RuleFormPage>
  );
}

/** A rule form's two submissions; `shown` is the one that ran last, whose errors the form shows. */
export interface RuleFormSubmissions<P> {
  save: Submission;
  preview: Submission;
  shown: Submission;
  /** The last preview's answer; cleared while the next one runs. */
  previewAnswer: P | null;
}

/** Save (then the rule's own page) and preview (its answer kept for the form to show). */
export function useRuleForm<P>(
  collection: RuleCollection,
  save: () => Promise<{ id: string }>,
  preview: () => Promise<P>,
): RuleFormSubmissions<P> {
  const [last, setLast] = useState<"save" | "preview">("save");
  const [previewAnswer, setPreviewAnswer] = useState<P | null>(null);
  const saving = useSubmission(async () => {
    setLast("save");
    const saved = await save();
    navigate(`${collection.listHref}/${saved.id}`);
  });
  const previewing = useSubmission(async () => {
    setLast("preview");
    setPreviewAnswer(null);
    setPreviewAnswer(await preview());
  });
  return { save: saving, preview: previewing, shown: last === "save" ? saving : previewing, previewAnswer };
}

/** Save, Preview (over the last 24 hours of stored events) and Cancel, with the preview's answer. */
export function RuleFormActions({
  collection: { listHref, noun },
  existingId,
  submissions,
  previewText,
}: {
  collection: RuleCollection;
  /** The rule being changed; none on the create page. */
  existingId: string | undefined;
  submissions: { save: Submission; preview: Submission };
  previewText: ComponentChildren | null;
}) {
  const saving = submissions.save.busy;
  const previewing = submissions.preview.busy;
  return (
    <>
      {previewText && (
        <Notice>
          <span>{previewText}</span>
        </Notice>
      )}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={saving || previewing}>
          {saving ? "Saving…" : existingId ? "Save changes" : `Create ${noun}`}
        </button>
        <button
          type="button"
          class="btn"
          disabled={saving || previewing}
          onClick={() => void submissions.preview.submit()}
        >
          {previewing ? "Previewing…" : "Preview"}
        </button>
        <span class="spacer" />
        <button type="button" class="btn" onClick={() => navigate(existingId ? `${listHref}/${existingId}` : listHref)}>
          Cancel
        </button>
      </div>
    </>
  );
}

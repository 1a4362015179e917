import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { errorMessage } from "../lib/api";
import { formatDateTime, formatRelative } from "../lib/format";

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <div class="empty-body">{children}</div>}
    </div>
  );
}

/** An error with what to do next; `retry` offers the obvious action. */
export function ErrorBanner({ error, retry }: { error: unknown; retry?: () => void }) {
  if (!error) return null;
  return (
    <div class="banner banner-error" role="alert">
      <span>{errorMessage(error)}</span>
      {retry && (
        <button type="button" class="btn btn-small" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({
  kind = "info",
  children,
}: {
  kind?: "info" | "success" | "warning";
  children: ComponentChildren;
}) {
  return (
    <div class={`banner banner-${kind}`} role="status">
      {children}
    </div>
  );
}

export function PageHeader({
  title,
  subtitle,
  actions,
}: {
  title: string;
  subtitle?: ComponentChildren;
  actions?: ComponentChildren;
}) {
  useEffect(() => {
    document.title = `${title} · Herald`;
  }, [title]);
  return (
    <header class="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p class="page-subtitle">{subtitle}</p>}
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </header>
  );
}

/** A labelled form control with its hint and its error (from the API or the browser). */
export function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  error?: string;
  children: ComponentChildren;
}) {
  return (
    <div class={`field${error ? " field-invalid" : ""}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && !error && (
        <p class="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** aria attributes tying an input to its Field's hint or error. */
export function describedBy(id: string, error?: string): { "aria-invalid"?: true; "aria-describedby": string } {
  return { "aria-invalid": error ? true : undefined, "aria-describedby": error ? `${id}-error` : `${id}-hint` };
}

/** Time in the viewer's zone, the exact ISO time on hover. */
export function Time({ value, relative = false }: { value: string | number | null | undefined; relative?: boolean }) {
  if (value === null || value === undefined || value === "") return <span class="muted">—</span>;
  const iso = new Date(value).toISOString();
  return (
    <time dateTime={iso} title={iso}>
      {relative ? formatRelative(value) : formatDateTime(value)}
    </time>
  );
}

/** A modal built on <dialog>: focus is trapped, Escape closes it. */
export function Dialog({
  open,
  title,
  onClose,
  children,
  wide = false,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      class={`dialog${wide ? " dialog-wide" : ""}`}
      aria-labelledby="dialog-title"
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {open && (
        <>
          <h2 id="dialog-title">{title}</h2>
          {children}
        </>
      )}
    </dialog>
  );
}

/** Asks before a destructive action; shows the action's error in place if it fails. */
export function ConfirmDialog({
  open,
  title,
  body,
  confirmLabel,
  danger = true,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  body: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (open) setError(null);
  }, [open]);
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <div class="dialog-body">{body}</div>
      <ErrorBanner error={error} />
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button
          type="button"
          class={`btn ${danger ? "btn-danger" : "btn-primary"}`}
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await onConfirm();
              onClose();
            } catch (e) {
              setError(e);
            } finally {
              setBusy(false);
            }
          }}
        >
          {busy ? "Working…" : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** A secret shown once, with a copy button. */
export function OneTimeSecret({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  const id = `secret-${label.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <div class="one-time-secret">
      <label for={id}>{label}</label>
      <div class="secret-row">
        <input id={id} class="input mono" readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          class="btn"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(value);
            } catch {
              // clipboard refused (permissions): select the text so Ctrl+C works
              document.getElementById(id)?.focus();
            }
            setCopied(true);
            setTimeout(() => setCopied(false), 2000);
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <p class="field-hint">Copy it now: Herald stores only a hash and will not show it again.</p>
    </div>
  );
}

/** The dialog that shows a just-created secret once; `intro` says where it goes. */
export function OneTimeSecretDialog({
  title,
  label,
  value,
  intro,
  doneLabel = "Done",
  onClose,
}: {
  title: string;
  label: string;
  value: string | null;
  intro?: ComponentChildren;
  doneLabel?: string;
  onClose: () => void;
}) {
  return (
    <Dialog open={value !== null} title={title} onClose={onClose}>
      {value && (
        <div class="dialog-body">
          {intro}
          <OneTimeSecret label={label} value={value} />
        </div>
      )}
      <div class="dialog-actions">
        <button type="button" class="btn btn-primary" onClick={onClose}>
          {doneLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** A row of filter tabs; `selected` is the id of the current one. */
export function Tabs<Id extends string | undefined>({
  label,
  tabs,
  selected,
  onSelect,
}: {
  label: string;
  tabs: readonly { id: Id; label: ComponentChildren }[];
  selected: Id;
  onSelect: (id: Id) => void;
}) {
  return (
    <div class="tabs" role="tablist" aria-label={label}>
      {tabs.map((tab) => (
        <button
          key={tab.id ?? ""}
          type="button"
          role="tab"
          class="tab"
          aria-selected={tab.id === selected}
          onClick={() => onSelect(tab.id)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}

/** A column heading; `hidden` keeps it for screen readers only (action columns). */
export interface Column {
  label: string;
  numeric?: boolean;
  hidden?: boolean;
}

/** A list table with its column headings; `card` sets it in a flush card of its own. */
export function DataTable({
  columns,
  variant,
  card = true,
  footer,
  children,
}: {
  columns?: readonly Column[];
  /** An extra class of the table (table-clickable, delivery-table). */
  variant?: string;
  card?: boolean;
  /** Below the table, inside its wrapper (the "show older" pager). */
  footer?: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <div class={card ? "table-wrap card card-flush" : "table-wrap"}>
      <table class={variant ? `table ${variant}` : "table"}>
        {columns && (
          <thead>
            <tr>
              {columns.map((column) => (
                <th key={column.label} scope="col" class={column.numeric ? "num" : undefined}>
                  {column.hidden ? <span class="sr-only">{column.label}</span> : column.label}
                </th>
              ))}
            </tr>
          </thead>
        )}
        <tbody>{children}</tbody>
      </table>
      {footer}
    </div>
  );
}

export function StatusPill({
  status,
  children,
}: {
  status: "ok" | "warn" | "bad" | "off";
  children: ComponentChildren;
}) {
  return <span class={`pill pill-${status}`}>{children}</span>;
}

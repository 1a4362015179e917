import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "../lib/api";
import { roleLabel } from "../lib/format";
import { Dialog, describedBy, ErrorBanner, Field } from "./ui";

/** A form's submit: busy while the action runs, its error (and the API's field errors) kept for display. */
export interface Submission {
  busy: boolean;
  error: unknown;
  /** The API's field errors by field name; empty unless the action failed with an ApiError. */
  fields: Record<string, string>;
  /** Runs the action; an `event` (the form's submit) is prevented from reloading the page. */
  submit: (event?: Event) => Promise<void>;
}

export function useSubmission(action: () => Promise<void>): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event?: Event) => {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, fields: error instanceof ApiError ? error.fieldErrors() : {}, submit };
}

/** The error of a field or of anything inside it ("filters.hosts" also takes "filters.hosts.2"). */
export function errorAt(fields: Record<string, string>, key: string): string | undefined {
  return fields[key] ?? Object.entries(fields).find(([field]) => field.startsWith(`${key}.`))?.[1];
}

/** The submission's error as a banner, unless its field errors already stand next to their fields. */
export function FormError({ submission }: { submission: Submission }) {
  const { error, fields } = submission;
  return error && Object.keys(fields).length === 0 ? <ErrorBanner error={error} /> : null;
}

/** A text-like input in its Field, tied to the hint or error by aria attributes. */
export function InputField({
  id,
  label,
  hint,
  error,
  value,
  onValue,
  type,
  autoComplete,
  required,
}: {
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  error?: string;
  value: string;
  onValue: (value: string) => void;
  type?: "email" | "password" | "date" | "number" | "time" | "datetime-local";
  autoComplete?: string;
  required?: boolean;
}) {
  return (
    <Field id={id} label={label} hint={hint} error={error}>
      <input
        id={id}
        class="input"
        // Preact types `type` per input kind; the union here is one of the plain text-like kinds.
        type={type as "text" | undefined}
        autoComplete={autoComplete}
        required={required}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
        {...describedBy(id, error)}
      />
    </Field>
  );
}

/** A modal form: its fields, then Cancel and a submit button that names what it is doing while busy. */
export function FormDialog({
  open,
  title,
  onClose,
  submission,
  submitLabel,
  busyLabel,
  children,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  submission: Submission;
  submitLabel: string;
  busyLabel: string;
  children: ComponentChildren;
}) {
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <form noValidate onSubmit={submission.submit}>
        <div class="dialog-body">{children}</div>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={submission.busy}>
            {submission.busy ? busyLabel : submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The `<option>`s of a role select, in the order given (most to least access, or the reverse). */
export function RoleOptions({ roles }: { roles: readonly string[] }) {
  return (
    <>
      {roles.map((role) => (
        <option key={role} value={role}>
          {roleLabel(role)}
        </option>
      ))}
    </>
  );
}

/** A fieldset of checkboxes that picks a subset of `options`, in the order they are ticked. */
export function CheckboxGroup<T extends string>({
  legend,
  hint,
  name,
  options,
  checked,
  onChange,
  error,
}: {
  legend: string;
  hint?: string;
  name: string;
  options: { value: T; label: ComponentChildren }[];
  checked: readonly T[];
  onChange: (checked: T[]) => void;
  error?: string;
}) {
  const toggle = (item: T, on: boolean): T[] => {
    const next = new Set(checked);
    if (on) next.add(item);
    else next.delete(item);
    return [...next];
  };
  return (
    <fieldset class="subscription-group">
      <legend class="fieldset-legend">{legend}</legend>
      {hint && <p class="field-hint">{hint}</p>}
      {options.map((option) => (
        <label class="check" key={option.value}>
          <input
            type="checkbox"
            name={name}
            value={option.value}
            checked={checked.includes(option.value)}
            onChange={(e) => onChange(toggle(option.value, e.currentTarget.checked))}
          />
          {option.label}
        </label>
      ))}
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

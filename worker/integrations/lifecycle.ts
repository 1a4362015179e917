import { and, eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { type AutoDisableReason, type DisableReason, integrations } from "../db/schema";
import { auditInsert, SYSTEM_ACTOR } from "../domain/audit";
import { parseFailureWindowConfig } from "../domain/failure-window";
import { buildSystemEvent, type SystemEventRow, systemEventOutboxInsert } from "../domain/system-events";
import type { Env } from "../env";
import { announceControlChange } from "../ingest/control-change";
import { publishSystemEvents } from "../ingest/publish-system-events";
import { uiLink } from "../lib/links";
import type { Principal } from "../lib/principal";
import { raiseSystemNotice } from "../notices/system-notice";
import { integrationObject } from "../outbox/object";
import { loadWithRecipientContext } from "./send-target";
import type { IntegrationRow } from "./store";

/**
 * The one place an integration is disabled and enabled, by an admin or by Herald itself: the D1
 * row, its audit entry and its system event in one atomic batch, then the outbox (its
 * IntegrationDO) and the notice. The D1 row is the source of truth: fan-out queues only to
 * enabled integrations, and to a disabled one only what was committed before its disable
 * (`disabled_after_seq`, README "Delivery").
 */

type Figures = Record<string, string | number | boolean | null>;

/** Who changes the state, as the audit log records it. */
interface Actor {
  actor: Principal | typeof SYSTEM_ACTOR;
  /** The caller's address (admins only). */
  ip?: string | null;
}

interface DisableInput extends Actor {
  reason: DisableReason;
  /** The figures of an automatic disable, shown to people. */
  details: Figures | null;
  at: number;
  /** The system event announcing it (inserted in the disable's batch). */
  event: SystemEventRow;
  /** Set for automatic disables: mailed to the admins who do not get `system` notices. */
  adminMail?: { subject: string; text: string };
  /** False when the outbox decided the disable itself and is already paused. */
  pauseOutbox: boolean;
}

/**
 * Disables an enabled integration. The marker `disabled_after_seq` is the account seq the account
 * object answers the control change with (announceControlChange): every event with a higher seq
 * is written under the new state, fanned out without this integration — exactly those a replay on
 * enable queues. Returns the new row, or null when it was no longer enabled.
 */
export async function disableIntegration(
  env: Env,
  row: IntegrationRow,
  input: DisableInput,
): Promise<IntegrationRow | null> {
  const db = createDb(env.DB);
  const [updated] = await db.batch([
    db
      .update(integrations)
      .set({
        status: "disabled",
        disabledReason: input.reason,
        disabledDetails: input.details,
        disabledAt: input.at,
        updatedAt: input.at,
      })
      .where(and(eq(integrations.id, row.id), eq(integrations.status, "enabled")))
      .returning(),
    auditInsert(
      db,
      input.actor,
      row.accountId,
      {
        action: input.reason === "manual" ? "integration.disabled" : "integration.auto_disabled",
        targetType: "integration",
        targetId: row.id,
        details: { type: row.type, name: row.name, reason: input.reason, ...input.details },
      },
      input.ip,
    ),
    systemEventOutboxInsert(db, input.event),
  ]);
  let disabled = updated[0] ?? null;
  if (disabled) {
    const { committedSeq } = await announceControlChange(env, row.accountId);
    await db.update(integrations).set({ disabledAfterSeq: committedSeq }).where(eq(integrations.id, row.id));
    disabled = { ...disabled, disabledAfterSeq: committedSeq };
  }
  if (input.pauseOutbox) await pauseOutbox(env, row.id);
  if (input.adminMail) await raiseSystemNotice(env, input.event, input.adminMail);
  else await publishSystemEvents(env, row.accountId, [input.event]);
  return disabled;
}

/** What the admin chose on enable (the API's EnableBody). */
interface EnableChoices {
  pending: "resume" | "drop";
  /** Queue the subscribed events committed after the disable. */
  replay_missed: boolean;
  /** Replay the deliveries that died in the failure window before the disable, or since. */
  replay_dead: boolean;
}

interface EnableInput extends Actor {
  choices: EnableChoices;
  event: SystemEventRow;
}

/**
 * Enables a disabled integration and tells its outbox what the admin chose. `outcome` is null
 * when the outbox could not be reached (the change is stored and audited regardless).
 */
export async function enableIntegration(
  env: Env,
  row: IntegrationRow,
  input: EnableInput,
): Promise<{ row: IntegrationRow; outcome: ResumeResult | null }> {
  const db = createDb(env.DB);
  const now = Date.now();
  const { choices } = input;
  // What enabling writes, to the row and to the answer alike.
  const enabledState = {
    status: "enabled",
    disabledReason: null,
    disabledDetails: null,
    disabledAt: null,
    disabledAfterSeq: null,
    updatedAt: now,
  } as const;
  await db.batch([
    db
      .update(integrations)
      .set(enabledState)
      .where(and(eq(integrations.id, row.id), eq(integrations.status, "disabled"))),
    auditInsert(
      db,
      input.actor,
      row.accountId,
      {
        action: "integration.enabled",
        targetType: "integration",
        targetId: row.id,
        details: {
          type: row.type,
          name: row.name,
          was_disabled_reason: row.disabledReason,
          pending: choices.pending,
          replay_missed: choices.replay_missed,
          replay_dead: choices.replay_dead,
        },
      },
      input.ip,
    ),
    systemEventOutboxInsert(db, input.event),
  ]);
  // Events after this seq are fanned out to the integration again; the replay covers those before.
  const { committedSeq } = await announceControlChange(env, row.accountId);
  const disabledAt = row.disabledAt ?? row.updatedAt;
  const outcome = await resumeOutbox(env, row.id, {
    pending: choices.pending,
    // Null only for a row stored disabled from the start: it never missed anything.
    replayMissedAfterSeq: choices.replay_missed ? (row.disabledAfterSeq ?? undefined) : undefined,
    replayMissedUntilSeq: committedSeq,
    replayDeadSince: choices.replay_dead ? disabledAt - parseFailureWindowConfig(env).windowMs : undefined,
  });
  await publishSystemEvents(env, row.accountId, [input.event]);
  return { row: { ...row, ...enabledState }, outcome };
}

// --- automatic disable --------------------------------------------------------------------------

/** What the IntegrationDO decided; kept in its storage until D1 has recorded it. */
export interface DisableRequest {
  reason: AutoDisableReason;
  /** The figures shown to people: requests, failed, failure_ratio, window_seconds, ... */
  details: Figures;
  at: number;
}

type AutoDisableResult = "disabled" | "already_disabled" | "missing";

function describe(name: string, type: string, request: DisableRequest): string {
  const d = request.details;
  if (request.reason === "destination_gone") {
    return `Integration "${name}" (${type}) was disabled automatically: its destination answered 410 Gone.`;
  }
  const percent = Math.round(Number(d.failure_ratio) * 1000) / 10;
  const hours = Math.round((Number(d.window_seconds) / 3600) * 10) / 10;
  return (
    `Integration "${name}" (${type}) was disabled automatically: ${d.failed} of ${d.requests} requests ` +
    `(${percent} %) failed in the last ${hours} hours (threshold ${Number(d.threshold_ratio) * 100} %).`
  );
}

/**
 * Records an automatic disable the IntegrationDO decided (it has paused itself): the row, audit
 * and `integration_auto_disabled` event, the notice to the account's other integrations that
 * subscribe to `system` (this one is disabled now, so fan-out skips it) and an email to every
 * admin whose personal email does not carry that notice. "already_disabled" without any notice
 * when an admin disabled it first.
 */
export async function recordAutoDisable(
  env: Env,
  integrationId: string,
  request: DisableRequest,
): Promise<AutoDisableResult> {
  const db = createDb(env.DB);
  // The row and its account's name (for the admins' mail) in one query.
  const loaded = await loadWithRecipientContext(db, integrationId);
  if (!loaded) return "missing";
  const { integration: row, accountName } = loaded;
  if (row.status !== "enabled") return "already_disabled";
  const message = describe(row.name, row.type, request);
  const event = buildSystemEvent(
    row.accountId,
    "integration_auto_disabled",
    "Herald",
    message,
    {
      integration_id: row.id,
      integration_name: row.name,
      integration_type: row.type,
      reason: request.reason,
      ...request.details,
    },
    request.at,
  );
  const disabled = await disableIntegration(env, row, {
    reason: request.reason,
    details: request.details,
    at: request.at,
    actor: SYSTEM_ACTOR,
    event,
    pauseOutbox: false,
    adminMail: {
      subject: `[Herald] Integration "${row.name}" was disabled automatically`,
      text: `${message}\n\nAccount: ${accountName}\nPending deliveries are kept, paused. Re-enable the integration to resume or drop them:\n${uiLink(env.PUBLIC_URL, `/integrations/${row.id}`)}\n`,
    },
  });
  return disabled ? "disabled" : "already_disabled";
}

// --- the outbox ---------------------------------------------------------------------------------

/** What enabling asks of the integration's outbox (resume or drop, optionally replay). */
export interface ResumeOptions {
  pending: "resume" | "drop";
  /** Queue the account's subscribed events with a seq after this one (the disable's marker)... */
  replayMissedAfterSeq?: number;
  /** ...up to this one (the enable's: later events reach the integration by fan-out). */
  replayMissedUntilSeq?: number;
  /** Replay the dead deliveries that finished at or after this time (epoch ms). */
  replayDeadSince?: number;
}

/** What the outbox did on enable (the IntegrationDO's answer to `resume`). */
export interface ResumeResult {
  resumed: number;
  dropped: number;
  replayed: number;
  /** Present when dead deliveries were replayed (each as a new delivery). */
  replayedDead?: number;
  /** Present when the replay stopped at its cap: more missed events matched than were queued. */
  truncated?: true;
}

/**
 * The D1 row is the source of truth (fan-out reads it), so a failed call is logged and reported,
 * not fatal: the change is already stored and audited.
 */
async function tell<T>(what: string, integrationId: string, call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    console.error("integration outbox call failed", { what, integrationId, error: String(error) });
    return null;
  }
}

export const pauseOutbox = (env: Env, integrationId: string) =>
  tell("pause", integrationId, () => integrationObject(env, integrationId).pause());

const resumeOutbox = (env: Env, integrationId: string, options: ResumeOptions) =>
  tell("resume", integrationId, (): Promise<ResumeResult> => integrationObject(env, integrationId).resume(options));

export const destroyOutbox = (env: Env, integrationId: string) =>
  tell("destroy", integrationId, () => integrationObject(env, integrationId).destroy());

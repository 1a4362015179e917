import { PDFDocument, StandardFonts } from "pdf-lib";
import type { Channel } from "../channels/types";
import type { Category, EventSubscriptions } from "../domain/subscriptions";
import { subscribedCategories } from "../domain/subscriptions";
import type { Env } from "../env";
import { uuidv7 } from "../lib/ids";
import { callChannel } from "./call-channel";
import { buildTestSamples } from "./test-samples";

interface TestResult {
  category: Category;
  ok: boolean;
  status: number | null;
  latency_ms: number;
  error: string | null;
}

interface TestSendInput {
  channel: Channel<any>;
  /** The saved integration's id, or a fresh id for an unsaved one. */
  integrationId: string;
  accountName: string;
  settings: Record<string, unknown>;
  events: EventSubscriptions;
  recipients?: string[];
  /** Secret values, handed to the channel and scrubbed from error texts. */
  secrets: string[];
}

/** A one-page PDF so report tests exercise the attachment path (email, Telegram sendDocument). */
async function samplePdf(accountName: string): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const page = pdf.addPage([595, 842]);
  page.drawText("[Test message] Herald security report", { x: 50, y: 780, size: 18, font });
  page.drawText(`Account: ${accountName.replace(/[^\x20-\x7e]/g, "?")}`, { x: 50, y: 750, size: 12, font });
  page.drawText("This sample shows how reports will arrive here.", { x: 50, y: 730, size: 12, font });
  return pdf.save();
}

const NOT_SENT_AFTER: ReadonlySet<string> = new Set(["network", "timeout"]);

/**
 * Sends one "[Test message]" sample per subscribed category through the channel's real code,
 * one after the other (messengers rate-limit bursts). Nothing goes through the IntegrationDO, so
 * tests never count in the failure window. After a network error or timeout the remaining
 * samples are not attempted: the receiver is unreachable and each would wait the full timeout.
 */
export async function runTestSend(env: Env, input: TestSendInput): Promise<TestResult[]> {
  const categories = subscribedCategories(input.events).filter((c) => input.channel.categories.includes(c));
  const samples = buildTestSamples(categories, input.events, input.accountName, env.PUBLIC_URL);
  const results: TestResult[] = [];
  let unreachable: string | null = null;
  for (const { category, notification } of samples) {
    if (unreachable) {
      results.push({ category, ok: false, status: null, latency_ms: 0, error: `Not sent: ${unreachable}` });
      continue;
    }
    const outcome = await callChannel(env, input, {
      deliveryId: uuidv7(),
      notifications: [notification],
      test: true,
      // Like a delivery (worker/delivery/send.ts): only a report is sent as a report.
      loadReport:
        category === "reports"
          ? async () => ({
              reportId: notification.id,
              fileName: "herald-test-report.pdf",
              loadPdf: () => samplePdf(input.accountName),
            })
          : undefined,
    });
    if (outcome.ok) {
      results.push({ category, ok: true, status: outcome.status, latency_ms: outcome.latencyMs, error: null });
    } else {
      const error = outcome.error;
      results.push({ category, ok: false, status: outcome.status ?? null, latency_ms: outcome.latencyMs, error });
      if (NOT_SENT_AFTER.has(outcome.kind)) unreachable = error;
    }
  }
  return results;
}

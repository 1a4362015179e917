import { z } from "zod";
import { emailNotifications, emailReport, recipientsOf } from "./email-render";
import { emailAddress } from "./settings-fields";
import type { Channel } from "./types";

const emailSettingsSchema = z
  .object({
    recipients: z
      .array(emailAddress)
      .min(1)
      .max(50)
      .refine((list) => new Set(list.map((a) => a.toLowerCase())).size === list.length, "lists an address twice"),
  })
  .strict();
type EmailSettings = z.infer<typeof emailSettingsSchema>;

export const emailChannel: Channel<EmailSettings> = {
  type: "email",
  title: "Email reports",
  block: "email_and_messengers",
  settingsSchema: emailSettingsSchema,
  secretFields: [],
  urlFields: [],
  categories: ["system", "security_issue", "scope_change", "incident", "reports"],
  batchLimit: 1,
  send: (ctx, notifications) => emailNotifications(ctx, recipientsOf(ctx, ctx.settings.recipients), notifications),
  sendReport: (ctx, notification, report) =>
    emailReport(ctx, recipientsOf(ctx, ctx.settings.recipients), notification, report),
};

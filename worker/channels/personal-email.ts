import { z } from "zod";
import { emailNotifications, emailReport, recipientsOf } from "./email-render";
import { invalidSettings } from "./http";
import type { Channel } from "./types";

/** No settings: the address is the user's login email, resolved by the caller into ctx.recipients. */
const personalEmailSettingsSchema = z.object({}).strict();
type PersonalEmailSettings = z.infer<typeof personalEmailSettingsSchema>;

const NO_ADDRESS = "the user's email address was not resolved";

export const personalEmailChannel: Channel<PersonalEmailSettings> = {
  type: "personal_email",
  title: "Personal email",
  block: "email_and_messengers",
  settingsSchema: personalEmailSettingsSchema,
  secretFields: [],
  urlFields: [],
  categories: ["system", "security_issue", "scope_change", "incident", "reports"],
  userManaged: true,
  batchLimit: 1,
  send: (ctx, notifications) => {
    const to = recipientsOf(ctx);
    return to.length ? emailNotifications(ctx, to, notifications) : Promise.resolve(invalidSettings(NO_ADDRESS));
  },
  sendReport: (ctx, notification, report) => {
    const to = recipientsOf(ctx);
    return to.length ? emailReport(ctx, to, notification, report) : Promise.resolve(invalidSettings(NO_ADDRESS));
  },
};

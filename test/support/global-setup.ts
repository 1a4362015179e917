/**
 * vitest globalSetup for the workerd suites: starts the receiver hub in Node and hands its
 * addresses to the runtime (vitest.config.ts turns them into the RECEIVER_URL and
 * SMTP_TEST_PORT bindings).
 */
import type { TestProject } from "vitest/node";
import { startReceiverHub } from "./receiver-hub.ts";

declare module "vitest" {
  export interface ProvidedContext {
    receiverUrl: string;
    smtpPort: number;
  }
}

export default async function setup(project: TestProject) {
  const hub = await startReceiverHub();
  project.provide("receiverUrl", hub.url);
  project.provide("smtpPort", hub.smtpPort);
  return async () => {
    await hub.close();
  };
}

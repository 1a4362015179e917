import { z } from "zod";
import type { CatalogBlock, Channel } from "../channels/types";
import { parseSecretPath } from "./secret-fields";

/** How the UI's three blocks are titled (docs/channels.md#the-catalog). */
export const BLOCK_TITLES: Record<CatalogBlock, string> = {
  email_and_messengers: "Email and messengers",
  incident_management_and_siem: "Incident management and SIEM",
  other: "Other systems",
};

type JsonSchema = Record<string, unknown> & {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
};

/** Follows a settings path ("headers[].value") through a JSON schema, creating nothing. */
function nodeAt(schema: JsonSchema, path: string): { parent: JsonSchema; key: string; node: JsonSchema } | null {
  const segments = parseSecretPath(path);
  let parent: JsonSchema | undefined = schema;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (typeof segment !== "string") {
      parent = parent?.items;
      continue;
    }
    const node: JsonSchema | undefined = parent?.properties?.[segment];
    if (!parent || !node) return null;
    if (i === segments.length - 1) return { parent, key: segment, node };
    parent = node;
  }
  return null;
}

/**
 * The settings schema as JSON Schema (input side: defaults are optional) for the UI's forms.
 * Secrets are `writeOnly` (sent, never read back) with `x-secret`; generated settings are
 * `readOnly` and not required, since the server fills them in.
 */
export function settingsJsonSchema(channel: Pick<Channel<any>, "settingsSchema" | "secretFields" | "generatedFields">) {
  const schema = z.toJSONSchema(channel.settingsSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  delete schema.$schema;
  for (const path of channel.secretFields) {
    const at = nodeAt(schema, path);
    if (at) Object.assign(at.node, { writeOnly: true, "x-secret": true });
  }
  for (const path of channel.generatedFields ?? []) {
    const at = nodeAt(schema, path);
    if (!at) continue;
    Object.assign(at.node, { readOnly: true });
    if (at.parent.required) at.parent.required = at.parent.required.filter((k) => k !== at.key);
  }
  return schema;
}

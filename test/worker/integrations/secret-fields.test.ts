import { describe, expect, it } from "vitest";
import {
  keepBlankSecrets,
  maskSecret,
  maskSettings,
  mergeSecrets,
  secretValues,
  splitSecrets,
} from "../../../worker/integrations/secret-fields";

const PATHS = ["bot_token", "headers[].value"];
const full = {
  bot_token: "123456:ABCDEFGHIJKLMNOPQRST",
  chat_id: "-100123",
  headers: [
    { name: "Authorization", value: "Bearer abcdefghijklmnop" },
    { name: "X-Team", value: "security-team-1" },
  ],
};

describe("secret settings by path", () => {
  it("splits secrets out of the clear settings and merges them back", () => {
    const { clear, secret } = splitSecrets(full, PATHS);
    expect(JSON.stringify(clear)).not.toContain("ABCDEFGHIJ");
    expect(JSON.stringify(clear)).not.toContain("abcdefghij");
    expect(clear).toEqual({ chat_id: "-100123", headers: [{ name: "Authorization" }, { name: "X-Team" }] });
    expect(mergeSecrets(clear, secret)).toEqual(full);
    expect(secretValues(full, PATHS)).toEqual([full.bot_token, "Bearer abcdefghijklmnop", "security-team-1"]);
  });

  it("masks with the last four characters of long secrets only", () => {
    expect(maskSecret("abcdefghijkla1b2")).toBe("••••a1b2");
    expect(maskSecret("short")).toBe("••••");
    const masked = maskSettings(full, PATHS);
    expect(masked).toEqual({
      bot_token: "••••QRST",
      chat_id: "-100123",
      headers: [
        { name: "Authorization", value: "••••mnop" },
        { name: "X-Team", value: "••••am-1" },
      ],
    });
  });

  it("keeps old secrets where the update is blank, absent or the mask sent back", () => {
    const update = {
      bot_token: "••••QRST",
      chat_id: "-100999",
      // Reordered, one blank, one new value, one new header without a value.
      headers: [{ name: "x-team", value: "" }, { name: "Authorization", value: "Bearer new" }, { name: "X-New" }],
    };
    const { settings, missing } = keepBlankSecrets(update, full, PATHS);
    expect(settings).toEqual({
      bot_token: full.bot_token,
      chat_id: "-100999",
      headers: [
        { name: "x-team", value: "security-team-1" },
        { name: "Authorization", value: "Bearer new" },
        { name: "X-New" },
      ],
    });
    expect(missing).toEqual([["headers", 2, "value"]]);
    expect(keepBlankSecrets({ chat_id: "1" }, full, PATHS).settings.bot_token).toBe(full.bot_token);
  });

  it("reports secrets it cannot keep when the old ones are unreadable", () => {
    const { settings, missing } = keepBlankSecrets({ bot_token: "", chat_id: "1" }, null, PATHS);
    expect(settings).toEqual({ chat_id: "1" });
    expect(missing).toEqual([["bot_token"]]);
  });
});

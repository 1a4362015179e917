import { describe, expect, it } from "vitest";
import { destinationUrl } from "../../../worker/channels/settings-fields";

// The URL refinements run even after the URL check failed: they must report, never throw.
describe("destinationUrl", () => {
  it.each(["not a url", "", "https://", "://x"])("rejects %j with an error instead of throwing", (input) => {
    const result = destinationUrl.safeParse(input);
    expect(result.success).toBe(false);
  });

  it("rejects credentials and fragments, accepts a plain https URL", () => {
    expect(destinationUrl.safeParse("https://user:pw@example.com/hook").success).toBe(false);
    expect(destinationUrl.safeParse("https://example.com/hook#x").success).toBe(false);
    expect(destinationUrl.safeParse("https://example.com/hook").success).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { jsonBytes, splitBySize } from "../../../worker/channels/http";
import { signPayload } from "../../../worker/channels/webhook";
import {
  checkOpsgenie,
  checkOpsgenieClose,
  checkPagerduty,
  checkSlack,
  checkSplunk,
  checkSumologic,
  checkTelegramSendMessage,
  checkWebhook,
  type RecordedRequest,
  splitConcatenatedJson,
  telegramHtmlProblems,
} from "../../support/vendor-contracts";

/** The contract checks must catch what a vendor would reject, or the contract tests prove nothing. */

const req = (body: unknown, headers: Record<string, string> = {}, path = "/"): RecordedRequest => ({
  method: "POST",
  path,
  query: "",
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("vendor contract checks reject bad requests", () => {
  it("Slack: unescaped markup, over-long header, too many fields", () => {
    expect(checkSlack(req({ text: "ok" }))).toEqual([]);
    expect(checkSlack(req({ text: "<!channel> hi" })).join()).toMatch(/unescaped/);
    expect(checkSlack(req({ text: "a & b" })).join()).toMatch(/bare &/);
    expect(
      checkSlack(req({ text: "x", blocks: [{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }] })),
    ).not.toEqual([]);
    const fields = Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "f" }));
    expect(checkSlack(req({ text: "x", blocks: [{ type: "section", fields }] }))).not.toEqual([]);
  });

  it("Telegram: wrong parse mode, stray markup, unknown tags, too long", () => {
    const path = "/bot1:abc/sendMessage";
    const ok = { chat_id: "-100", text: "<b>hi</b> &amp;", parse_mode: "HTML" };
    expect(checkTelegramSendMessage(req(ok, {}, path), "1:abc")).toEqual([]);
    expect(checkTelegramSendMessage(req({ ...ok, parse_mode: "Markdown" }, {}, path), "1:abc")).not.toEqual([]);
    expect(checkTelegramSendMessage(req({ ...ok, text: "x".repeat(4097) }, {}, path), "1:abc")).not.toEqual([]);
    expect(telegramHtmlProblems("<script>x</script>", "t")).not.toEqual([]);
    expect(telegramHtmlProblems("<b>open", "t")).not.toEqual([]);
    expect(telegramHtmlProblems("1 < 2", "t")).not.toEqual([]);
    expect(telegramHtmlProblems("a & b", "t")).not.toEqual([]);
  });

  it("Opsgenie: auth header, message length, non-string details", () => {
    const ok = { message: "m", alias: "a", details: { k: "v" }, priority: "P1" };
    expect(checkOpsgenie(req(ok, { authorization: "GenieKey k" }), "k")).toEqual([]);
    expect(checkOpsgenie(req(ok, { authorization: "Bearer k" }), "k")).not.toEqual([]);
    expect(checkOpsgenie(req({ ...ok, message: "m".repeat(131) }, { authorization: "GenieKey k" }), "k")).not.toEqual(
      [],
    );
    expect(checkOpsgenie(req({ ...ok, details: { n: 1 } }, { authorization: "GenieKey k" }), "k")).not.toEqual([]);
    expect(checkOpsgenie(req({ ...ok, priority: "P0" }, { authorization: "GenieKey k" }), "k")).not.toEqual([]);
  });

  it("PagerDuty: severity values, summary length, routing key", () => {
    const key = "R0123456789ABCDEF0123456789ABCDE";
    const ok = {
      routing_key: key,
      event_action: "trigger",
      payload: { summary: "s", source: "h", severity: "critical" },
    };
    expect(checkPagerduty(req(ok), key)).toEqual([]);
    expect(checkPagerduty(req({ ...ok, payload: { ...ok.payload, severity: "high" } }), key)).not.toEqual([]);
    expect(checkPagerduty(req({ ...ok, payload: { ...ok.payload, summary: "s".repeat(1025) } }), key)).not.toEqual([]);
    expect(checkPagerduty(req(ok), "X0123456789ABCDEF0123456789ABCDE")).not.toEqual([]);
  });

  it("PagerDuty resolve: needs the dedup_key of the alert, carries no payload", () => {
    const key = "R0123456789ABCDEF0123456789ABCDE";
    const resolve = { routing_key: key, event_action: "resolve", dedup_key: "herald:node-silence:1" };
    expect(checkPagerduty(req(resolve), key)).toEqual([]);
    const { dedup_key: _omitted, ...withoutKey } = resolve;
    expect(checkPagerduty(req(withoutKey), key).join()).toMatch(/dedup_key/);
    expect(checkPagerduty(req({ ...resolve, dedup_key: "" }), key)).not.toEqual([]);
    expect(checkPagerduty(req({ ...resolve, event_action: "close" }), key)).not.toEqual([]);
  });

  it("Opsgenie close: path by alias, identifierType=alias, only user/source/note", () => {
    const auth = { authorization: "GenieKey k" };
    const path = `/v2/alerts/${encodeURIComponent("herald:security-issue:1")}/close`;
    const close = (body: unknown, p = path, query = "?identifierType=alias") => ({ ...req(body, auth, p), query });
    expect(checkOpsgenieClose(close({ user: "u", source: "Herald", note: "n" }), "k")).toEqual({
      problems: [],
      alias: "herald:security-issue:1",
    });
    expect(checkOpsgenieClose(close({}, path, ""), "k").problems.join()).toMatch(/identifierType/);
    expect(checkOpsgenieClose(close({}, path, "?identifierType=id"), "k").problems).not.toEqual([]);
    expect(checkOpsgenieClose(close({}, "/v2/alerts"), "k").problems).not.toEqual([]);
    expect(checkOpsgenieClose(close({ message: "m" }), "k").problems).not.toEqual([]);
    expect(checkOpsgenieClose(close({ user: "u".repeat(101) }), "k").problems).not.toEqual([]);
    expect(
      checkOpsgenieClose({ ...close({}), headers: { "content-type": "application/json" } }, "k").problems,
    ).not.toEqual([]);
  });

  it("Splunk: path, auth, events without time", () => {
    const body = `${JSON.stringify({ time: 1, event: { a: 1 } })}\n${JSON.stringify({ time: 2, event: "x" })}`;
    const auth = { authorization: "Splunk t" };
    expect(checkSplunk(req(body, auth, "/services/collector/event"), "t")).toEqual([]);
    expect(checkSplunk(req(body, auth, "/services/collector/raw"), "t")).not.toEqual([]);
    expect(checkSplunk(req(JSON.stringify({ event: 1 }), auth, "/services/collector/event"), "t")).not.toEqual([]);
    expect(splitConcatenatedJson('{"a":"}{"}{"b":2}')).toEqual([{ a: "}{" }, { b: 2 }]);
  });

  it("Sumo Logic: headers and one JSON per line", () => {
    const headers = { "x-sumo-category": "c", "x-sumo-name": "n", "x-sumo-host": "h" };
    expect(checkSumologic(req('{"a":1}\n{"b":2}', headers))).toEqual([]);
    expect(checkSumologic(req('{"a":1}\n{"b":', headers))).not.toEqual([]);
    expect(checkSumologic(req('{"a":1}', {}))).not.toEqual([]);
  });

  it("webhook: a signature made with another secret or over another body fails", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const other = "whsec_cGxlYXNlIHJvdGF0ZSBtZSBzb29uIHRoYW5rcyE=";
    const body = JSON.stringify([{ id: "1" }]);
    const ts = Math.floor(Date.now() / 1000);
    const headers = (sig: string) => ({
      "webhook-id": "msg_1",
      "webhook-timestamp": String(ts),
      "webhook-signature": `v1,${sig}`,
    });
    const expectation = { method: "POST" as const, format: "json_array" as const, headers: [], secrets: [secret] };
    expect(await checkWebhook(req(body, headers(await signPayload(secret, "msg_1", ts, body))), expectation)).toEqual(
      [],
    );
    expect(
      await checkWebhook(req(body, headers(await signPayload(other, "msg_1", ts, body))), expectation),
    ).not.toEqual([]);
    expect(
      await checkWebhook(req(body, headers(await signPayload(secret, "msg_1", ts, `${body} `))), expectation),
    ).not.toEqual([]);
  });
});

describe("batch size budget", () => {
  it("splits a batch only when its body would exceed the limit, keeping order", () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ i, pad: "x".repeat(100) }));
    expect(splitBySize(items, jsonBytes, 1_000_000)).toEqual([items]);
    const groups = splitBySize(items, jsonBytes, 350);
    expect(groups.flat()).toEqual(items);
    for (const group of groups)
      expect(group.reduce((sum, item) => sum + jsonBytes(item) + 1, 0)).toBeLessThanOrEqual(350);
    // An item larger than the budget still goes, alone.
    expect(splitBySize([{ pad: "x".repeat(500) }, { i: 1 }], jsonBytes, 100)).toHaveLength(2);
  });

  it("Standard Webhooks test vector: signature of the spec's example", async () => {
    // From the Standard Webhooks specification's example (secret, id, timestamp, payload).
    const signature = await signPayload(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });
});

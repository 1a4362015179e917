/**
 * Posts one batch as a node does: a `429` or `503` answer, or a connection dropped before any
 * answer, is re-sent after a pause with the same events (stored once: the re-send reports them as
 * duplicates). Bench loaders use it, so a load of a million events is not lost to one dropped
 * connection; how often that happened is returned, for the figures.
 */
export interface Posted {
  /** Events stored by this batch, on whichever attempt (accepted + duplicates of a re-send). */
  stored: number;
  /** Attempts beyond the first. */
  resent: number;
}

const MAX_ATTEMPTS = 20;
const PAUSE_MS = 500;

export async function postEvents(url: string, token: string, body: string): Promise<Posted> {
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    let text = "";
    try {
      const res = await fetch(`${url}/v1/events`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body,
      });
      status = res.status;
      text = await res.text();
    } catch (error) {
      if (attempt === MAX_ATTEMPTS) throw error;
    }
    if (status === 202) {
      const answer = JSON.parse(text) as { accepted: number; duplicates: number };
      return { stored: answer.accepted + answer.duplicates, resent: attempt - 1 };
    }
    if ((status !== 0 && status !== 429 && status !== 503) || attempt === MAX_ATTEMPTS) {
      throw new Error(`POST /v1/events answered ${status}: ${text.slice(0, 300)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  }
}

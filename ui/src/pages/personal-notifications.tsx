import { useEffect, useState } from "preact/hooks";
import { useSubmission } from "../components/form";
import { ErrorBanner, Notice, Spinner } from "../components/ui";
import { call, client } from "../lib/api";
import { useResource } from "../lib/use-resource";
import type { Subscriptions } from "./integrations/api-types";
import { cleanSubscriptions, SubscriptionFields } from "./integrations/subscriptions";

/** The signed-in user's personal email integration: what Herald mails to their login address. */
export function PersonalNotifications() {
  const data = useResource(() => call(client.api.me.notifications.$get()), []);
  const [events, setEvents] = useState<Subscriptions | null>(null);
  const [saved, setSaved] = useState(false);
  const save = useSubmission(async () => {
    setSaved(false);
    if (!events) return;
    const answer = await call(client.api.me.notifications.$patch({ json: { events: cleanSubscriptions(events) } }));
    setEvents(answer.personal_email.events);
    setSaved(true);
  });
  const personal = data.data?.personal_email;
  useEffect(() => {
    if (personal) setEvents(personal.events);
  }, [personal]);

  return (
    <section class="card" aria-labelledby="personal-heading">
      <h2 id="personal-heading">Email notifications</h2>
      {data.loading && !personal ? (
        <Spinner />
      ) : !personal || !events ? (
        <ErrorBanner error={data.error} retry={data.reload} />
      ) : (
        <form onSubmit={save.submit}>
          <p class="muted">
            Sent to <strong>{personal.email}</strong>.
            {personal.status === "disabled" &&
              " Sending to this address is currently disabled by Herald after failures."}
          </p>
          {saved && <Notice kind="success">Saved.</Notice>}
          <ErrorBanner error={save.error} />
          <SubscriptionFields categories={personal.categories} value={events} onChange={setEvents} />
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={save.busy}>
              {save.busy ? "Saving…" : "Save subscriptions"}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

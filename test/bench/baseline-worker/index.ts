/** Parses the ingest request exactly as a client sends it and answers like Herald would, storing nothing. */
export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST") return new Response("baseline", { status: 200 });
    const body = (await request.json()) as { events?: unknown[] };
    const accepted = Array.isArray(body.events) ? body.events.length : 0;
    return Response.json({ accepted, duplicates: 0 }, { status: 202 });
  },
};

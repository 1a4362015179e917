// Swagger UI for Herald's OpenAPI document (a file of its own: the CSP forbids inline scripts).
window.addEventListener("DOMContentLoaded", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Session endpoints need the CSRF token on writes: read it from /api/me once signed in.
    requestInterceptor: async (request) => {
      const method = (request.method || "GET").toUpperCase();
      if (method !== "GET" && method !== "HEAD" && !request.headers.Authorization) {
        try {
          const me = await fetch("/api/me", { credentials: "same-origin" });
          if (me.ok) request.headers["X-CSRF-Token"] = (await me.json()).csrf_token;
        } catch {
          // not signed in: the API answers 401 and Swagger UI shows it
        }
      }
      return request;
    },
    validatorUrl: null,
  });
});

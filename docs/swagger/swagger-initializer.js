// Switchboard: replaces swagger-ui-dist's own swagger-initializer.js.
// Served from /api/docs/ next to the swagger-ui-dist assets; loaded by
// index.html as an external script (no inline scripts, CSP-friendly).
window.addEventListener("load", function () {
  "use strict";
  window.ui = SwaggerUIBundle({
    // The built copy: docs/openapi.yaml plus the code samples (curl, fetch,
    // requests) that scripts/openapi-samples writes into every operation.
    url: "/api/docs/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [
      SwaggerUIBundle.presets.apis,
      SwaggerUIStandalonePreset
    ],
    plugins: [
      SwaggerUIBundle.plugins.DownloadUrl
    ],
    layout: "StandaloneLayout",
    // Keep the bearer token across page reloads while trying routes out.
    persistAuthorization: true,
    // Do not send the spec to the public validator.swagger.io badge service.
    validatorUrl: null
  });
});

// The document is read here and handed over without its `servers` list: the page reads
// only, and Swagger UI's server picker has no label (axe: select-name).
window.addEventListener("load", function () {
  fetch({{ document | tojson }}, {credentials: "same-origin"})
    .then(function (answer) { return answer.json(); })
    .then(function (spec) {
      delete spec.servers;
      window.ui = SwaggerUIBundle({
        spec: spec,
        dom_id: "#swagger-ui",
        deepLinking: false,
        supportedSubmitMethods: [],
        presets: [SwaggerUIBundle.presets.apis],
        layout: "BaseLayout"
      });
    });
});

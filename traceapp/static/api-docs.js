/* Starts Swagger UI on the API docs page (templates/swagger_ui.html) from the data attributes of
   its container: no inline script, so the page's Content-Security-Policy needs no
   'unsafe-inline'. */
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui-container");
  var config = JSON.parse(container.getAttribute("data-config") || "{}");
  config.url = container.getAttribute("data-spec-url");
  config.dom_id = "#swagger-ui-container";
  // The online validator's badge would load from another host: the page talks to this site only.
  config.validatorUrl = null;
  window.ui = window.SwaggerUIBundle(config);
})();

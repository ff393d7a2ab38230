/* Register the proof-of-work workers for the vendored ALTCHA widget.
 *
 * The "external" build of the widget bundles no workers (the default build starts them
 * from blob: URLs, which the site's Content-Security-Policy does not allow); the worker
 * scripts are served from our own static files, whose URLs the page passes in data-
 * attributes of this script tag. */
(function () {
  "use strict";
  var script = document.currentScript;
  var registry = window.$altcha;
  if (!script || !registry || !registry.algorithms) {
    return;
  }
  var pbkdf2 = script.getAttribute("data-pbkdf2-worker");
  var sha = script.getAttribute("data-sha-worker");
  ["PBKDF2/SHA-256", "PBKDF2/SHA-384", "PBKDF2/SHA-512"].forEach(function (name) {
    registry.algorithms.set(name, function () { return new Worker(pbkdf2); });
  });
  ["SHA-256", "SHA-384", "SHA-512"].forEach(function (name) {
    registry.algorithms.set(name, function () { return new Worker(sha); });
  });
})();

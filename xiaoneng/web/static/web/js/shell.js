/* Page shell behaviour. Everything here is an enhancement: pages work without it.
   (The Content-Security-Policy allows scripts from this site only, so no inline JS.) */
(function () {
  "use strict";

  // When an htmx request fails, say so instead of leaving the old results in place
  // silently. The message text comes from the page, so it is translated like the rest.
  function showError() {
    var main = document.getElementById("main");
    if (!main || document.getElementById("xn-request-error")) return;
    var box = document.createElement("div");
    box.id = "xn-request-error";
    box.className = "alert alert-error";
    box.setAttribute("role", "alert");
    box.textContent = document.body.getAttribute("data-request-error") || "Request failed";
    main.insertBefore(box, main.firstChild);
  }
  function clearError() {
    var box = document.getElementById("xn-request-error");
    if (box) box.remove();
  }
  document.addEventListener("click", function (evt) {
    // Inline scripts are refused by the Content-Security-Policy: print buttons say data-print instead.
    if (evt.target.closest && evt.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("htmx:error", showError);
  document.addEventListener("htmx:after:request", function (evt) {
    var response = evt.detail && evt.detail.ctx && evt.detail.ctx.response;
    if (response && response.status >= 400) {
      // Keep the current results rather than swapping an error page into the list.
      evt.preventDefault();
      showError();
    } else {
      clearError();
    }
  });
})();

// Snapdesk's own script: no inline script anywhere, so the CSP can forbid it.
(function () {
  "use strict";
  // Show <time datetime="..."> in the viewer's zone, with UTC on hover.
  function localizeTimes(root) {
    root.querySelectorAll("time[datetime][data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = d.toISOString().replace(".000Z", "Z").replace("T", " ") + " UTC";
      el.textContent = d.toLocaleString(undefined, {
        year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short",
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localizeTimes(document); });
  document.addEventListener("htmx:afterSettle", function (e) { localizeTimes(e.target); });
  document.addEventListener("htmx:sseMessage", function (e) { localizeTimes(e.target); });
})();

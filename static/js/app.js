// Snapdesk's own script: no inline script anywhere, so the CSP can forbid it.
// Times are not touched: every page shows them in UTC and says so.
(function () {
  "use strict";
  // Copy buttons: <button data-copy="value">, on any page and in any
  // fragment htmx swaps in later (one listener on the document).
  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }
  function copied(button, ok) {
    var label = button.textContent;
    button.textContent = ok ? "Copied" : "Copy failed";
    button.setAttribute("data-copied", ok ? "true" : "false");
    setTimeout(function () {
      button.textContent = label === "Copied" || label === "Copy failed" ? "Copy" : label;
      button.removeAttribute("data-copied");
    }, 2000);
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button, true); },
        function () { copied(button, fallbackCopy(text)); });
    } else {
      copied(button, fallbackCopy(text));
    }
  });
  // Live lists (data-live-hold) are not replaced under a person who is
  // using them: while one of their forms is open or has the focus, an
  // update is skipped; the next one (or a reload) brings the page up to date.
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var el = e.target;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-live-hold")) return;
    if (el.querySelector("details[open]") || (document.activeElement && el.contains(document.activeElement) && document.activeElement !== document.body)) {
      e.preventDefault();
    }
  });
})();

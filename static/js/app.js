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
})();

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
  // Live rows (data-live-rows) are reconciled by id instead of replaced:
  // a row whose HTML did not change stays the same element.
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var el = e.target;
    if (!el || !el.hasAttribute) return;
    if (el.hasAttribute("data-live-hold") &&
        (el.querySelector("details[open]") || (document.activeElement && el.contains(document.activeElement) && document.activeElement !== document.body))) {
      e.preventDefault();
      return;
    }
    if (!el.hasAttribute("data-live-rows") || !e.detail || typeof e.detail.data !== "string") return;
    e.preventDefault();
    var t = document.createElement("template");
    t.innerHTML = "<table><tbody>" + e.detail.data + "</tbody></table>";
    var incoming = t.content.querySelector("tbody");
    // A form's idempotency key is new in every rendering: not a change.
    var sig = function (row) {
      var c = row.cloneNode(true);
      Array.prototype.forEach.call(c.querySelectorAll('input[name="idempotency_key"]'), function (i) { i.removeAttribute("value"); });
      return c.outerHTML;
    };
    var old = {};
    Array.prototype.forEach.call(el.children, function (row) { if (row.id) old[row.id] = row; });
    var rows = [];
    Array.prototype.forEach.call(incoming.children, function (row) {
      var kept = row.id && old[row.id];
      rows.push(kept && sig(kept) === sig(row) ? kept : row);
    });
    var fresh = [];
    rows.forEach(function (row, i) {
      if (el.children[i] !== row) el.insertBefore(row, el.children[i] || null);
      if (!old[row.id] || old[row.id] !== row) fresh.push(row);
    });
    while (el.children.length > rows.length) el.removeChild(el.lastElementChild);
    fresh.forEach(function (row) { htmx.process(row); });
  });
})();

// Character counters: a field with data-count="<id of its counter>" and
// data-max says, as people type, how many characters it has of the limit.
// Nothing is cut: past the limit the counter says so and the server
// refuses the form with a message, keeping what was typed.
(function () {
  function count(input) {
    var out = document.getElementById(input.getAttribute("data-count"));
    if (!out) return;
    var max = parseInt(input.getAttribute("data-max"), 10);
    var n = Array.from(input.value).length; // characters, not UTF-16 units
    out.textContent = n + " of " + max + " characters" + (n > max ? ": " + (n - max) + " too many" : "");
    out.classList.toggle("over", n > max);
  }
  document.addEventListener("input", function (e) {
    if (e.target && e.target.hasAttribute && e.target.hasAttribute("data-count")) count(e.target);
  });
})();

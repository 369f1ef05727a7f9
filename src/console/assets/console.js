// goodwill console: progressive enhancement only. Every page and form works
// without this file; it spares double clicks and offers "select all".
(function () {
  "use strict";
  // A form is sent once: its buttons are disabled while it goes (the server's
  // idempotency key makes a resubmission harmless anyway).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.sent === "1") { e.preventDefault(); return; }
    form.dataset.sent = "1";
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // "Select all" boxes tick the boxes of the form they name.
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    all.hidden = false;
    var label = document.querySelector("label[for='" + all.id + "']");
    if (label) { label.hidden = false; }
    all.addEventListener("change", function () {
      document.querySelectorAll("input[type=checkbox][form='" + all.dataset.selectAll + "']").forEach(function (c) {
        c.checked = all.checked;
      });
    });
  });
})();

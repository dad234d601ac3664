// The library item editor, without inline script (the Content-Security-Policy allows none).
// Without JavaScript the page still works: each suggestion row has a "Remove" box and saving
// gives one more empty row. With it: the "Add a suggestion" button (htmx asks the server for
// a row), a "Remove" button per row, and "Use it" for the page's fetched title.
(function () {
  "use strict";
  // The words come from the translation catalogue (/jsi18n/, loaded by base.html first);
  // without it (the catalogue failed to load) the scripts speak English.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, other, n) { return n === 1 ? one : other; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };
  function enhance(root) {
    root.querySelectorAll("[data-needs-js][hidden]").forEach(function (el) { el.hidden = false; });
    root.querySelectorAll("[data-no-js]").forEach(function (el) { el.hidden = true; });
  }
  function say(words) {
    var status = document.getElementById("suggestion-limit");
    if (status) { status.textContent = words; }
  }
  enhance(document);
  document.body.addEventListener("htmx:afterSettle", function (event) {
    enhance(document);
    // A row was added: put the cursor in it.
    if (event.target && event.target.id === "suggestion-rows") {
      var rows = event.target.querySelectorAll("[data-suggestion-row]:not([hidden])");
      var last = rows[rows.length - 1];
      if (last) { last.querySelector("textarea").focus(); }
    }
  });
  document.addEventListener("click", function (event) {
    var remove = event.target.closest ? event.target.closest("button[data-remove-suggestion]") : null;
    if (remove) {
      var row = remove.closest("[data-suggestion-row]");
      row.querySelector("input[name$='-DELETE']").checked = true;
      row.hidden = true;
      var add = document.querySelector("#suggestion-add button");
      if (add) { add.disabled = false; add.removeAttribute("aria-describedby"); add.focus(); }
      say(gettext("Suggestion removed. Save to keep the change."));
      var form = row.closest("form");
      if (form) { form.dataset.changed = "1"; }
      return;
    }
    var use = event.target.closest ? event.target.closest("button[data-use-title]") : null;
    if (use) {
      var title = document.getElementById("id_title");
      title.value = use.dataset.useTitle;
      title.dispatchEvent(new Event("input", { bubbles: true }));
      title.focus();
    }
  });
})();

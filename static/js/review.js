/* Review keyboard shortcuts. On a review page: a approve, s send back, r reject (both need a
   comment: the key focuses the comment box when it is empty, Ctrl+Enter then sends it),
   j / n next share. In the queue: j / n next row, k previous, Enter opens it, x ticks it,
   a approves the ticked shares, after a confirmation when that is more than one.

   Single keys are on unless the reviewer turned them off in their settings (WCAG 2.1.4):
   the page then says data-review-shortcuts="off" and only Ctrl+Enter in the comment box,
   which has a modifier, remains. Keys typed into a text field are left alone. */
(function () {
  "use strict";
  // The words come from the translation catalogue (/jsi18n/, loaded by base.html first);
  // without it (the catalogue failed to load) the scripts speak English.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, other, n) { return n === 1 ? one : other; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };
  var form = document.getElementById("decision-form");
  var hint = document.getElementById("key-hint");
  var switchedOn = document.querySelector('[data-review-shortcuts="on"]') !== null;
  var pending = null;

  function say(words) { if (hint) hint.textContent = words; }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function decide(key) {
    var button = form && form.querySelector('button[data-key="' + key + '"]');
    if (!button) return;
    var comment = form.querySelector("textarea[name=comment]");
    if (key !== "a" && comment && !comment.value.trim()) {
      pending = button;
      comment.focus();
      say(interpolate(gettext("Write a comment for the employee, then press Ctrl+Enter to %(action)s."),
        {action: button.textContent.replace(/\s+\S+$/, "").toLowerCase()}, true));
      return;
    }
    button.click();
  }

  if (form) {
    var comment = form.querySelector("textarea[name=comment]");
    if (comment) {
      comment.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          (pending || form.querySelector('button[data-key="s"]')).click();
        } else if (event.key === "Escape") {
          comment.blur();
        }
      });
    }
  }

  if (!switchedOn) return;

  var bulk = document.getElementById("bulk-form");
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-queue-row]"));
  var current = -1;
  function select(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("selected", i === current); });
    var link = rows[current].querySelector("[data-review-link]");
    if (link) link.focus();
  }

  function tick() {
    if (current < 0) { select(0); }
    var box = rows[current].querySelector("input[name=share_ids]");
    if (box) { box.checked = !box.checked; }
    else { say(gettext("This share has findings: open it to decide (Enter).")); }
  }

  function approveTicked() {
    var ticked = bulk.querySelectorAll("input[name=share_ids]:checked").length;
    if (ticked === 0) {
      say(gettext("Tick the shares to approve first (x on a row), or open one with Enter."));
      return;
    }
    var question = ngettext(
      "Approve %(count)s share at once? Each goes out as its author scheduled it.",
      "Approve %(count)s shares at once? Each goes out as its author scheduled it.", ticked);
    if (ticked > 1 && !window.confirm(interpolate(question, {count: ticked}, true))) {
      say(gettext("Nothing was approved."));
      return;
    }
    bulk.submit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (form && (key === "a" || key === "r" || key === "s")) {
      event.preventDefault();
      decide(key);
    } else if (bulk && key === "a") {
      event.preventDefault();
      approveTicked();
    } else if (bulk && key === "x" && rows.length) {
      event.preventDefault();
      tick();
    } else if (key === "j" || key === "n") {
      var next = document.querySelector("[data-next]");
      if (next) { window.location.href = next.href; }
      else if (rows.length) { event.preventDefault(); select(current + 1); }
    } else if (key === "k" && rows.length) {
      event.preventDefault();
      select(current - 1);
    }
  });
})();

/* Review keyboard shortcuts. On a review page: a approve, s send back, r reject (both need a
   comment: the key focuses the comment box when it is empty, Ctrl+Enter then sends it),
   j / n next share. In the queue: j / n next row, k previous, Enter opens it. Keys typed
   into a text field are left alone. */
(function () {
  "use strict";
  var form = document.getElementById("decision-form");
  var hint = document.getElementById("key-hint");
  var pending = null;

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
      if (hint) hint.textContent = "Write a comment for the employee, then press Ctrl+Enter to " + button.textContent.replace(/\s+\S+$/, "").toLowerCase() + ".";
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

  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-queue-row]"));
  var current = -1;
  function select(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("selected", i === current); });
    var link = rows[current].querySelector("[data-review-link]");
    if (link) link.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (form && (key === "a" || key === "r" || key === "s")) {
      event.preventDefault();
      decide(key);
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

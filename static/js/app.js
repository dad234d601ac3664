// Page behaviours without inline script (the Content-Security-Policy allows none):
// data-confirm on a form asks before it is sent; data-autosubmit on a field sends its form
// when it changes; data-track-changes on a form notes that the user typed; a button with
// data-suggestion fills the composer with a suggested text; a hidden field with
// data-browser-zone gets the browser's time zone (sign-up, invitation; checked by the server).
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    document.querySelectorAll("input[data-browser-zone]").forEach(function (field) {
      if (!field.value) { field.value = zone; }
    });
  } catch (error) { /* no Intl: the server uses the organization's zone */ }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.dataset && field.dataset.autosubmit !== undefined && field.form) { field.form.submit(); }
  });
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.dataset.trackChanges !== undefined) { form.dataset.changed = "1"; }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-suggestion]") : null;
    if (!button) { return; }
    var form = document.getElementById("composer");
    form.querySelector("textarea[name=commentary]").value = button.dataset.text;
    form.querySelector("input[name=suggestion]").value = button.dataset.suggestion;
    form.dispatchEvent(new Event("change"));
  });
  // The library item: when the page's details arrive, show them, unless the marketer typed.
  document.addEventListener("unfurlFinished", function () {
    var form = document.getElementById("item-form");
    if (form && !form.dataset.changed) { window.location.reload(); }
  });
})();

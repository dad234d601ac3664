// Page behaviours without inline script (the Content-Security-Policy allows none):
// data-confirm on a form asks before it is sent; data-autosubmit on a field sends its form
// when it changes; data-track-changes on a form notes that the user typed; a button with
// data-suggestion fills the composer with a suggested text (a network's own into that
// network's tab); the composer's words have tabs per network; a hidden field with
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
    if (button.dataset.network) {  // a network's own suggestion goes into that network's tab
      form.querySelector("textarea[name=text_" + button.dataset.network + "]").value = button.dataset.text;
      showTab(form, button.dataset.network);
    } else {
      form.querySelector("textarea[name=commentary]").value = button.dataset.text;
      form.querySelector("input[name=suggestion]").value = button.dataset.suggestion;
      showTab(form, "all");
    }
    form.dispatchEvent(new Event("change"));
  });

  // The composer's words: one tab for every network, one per chosen network to adapt them.
  // Without this script every panel shows, one under the other (the tab list stays hidden).
  function showTab(form, name) {
    var box = form.querySelector("[data-tabs]");
    if (!box) { return; }
    box.querySelectorAll("[role=tab]").forEach(function (tab) {
      var on = tab.id === "tab-" + name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
    });
    box.querySelectorAll("[role=tabpanel]").forEach(function (panel) {
      panel.hidden = panel.id !== "panel-" + name;
    });
  }
  function chosenNetworks(form) {
    var chosen = {};
    form.querySelectorAll("input[name=targets]:checked").forEach(function (box) { chosen[box.dataset.network] = true; });
    return chosen;
  }
  function syncComposer(form) {
    var box = form.querySelector("[data-tabs]");
    var chosen = chosenNetworks(form);
    box.querySelectorAll("[role=tab][data-network]").forEach(function (tab) {
      tab.hidden = !chosen[tab.dataset.network];
      if (tab.hidden && tab.getAttribute("aria-selected") === "true") { showTab(form, "all"); }
    });
    var later = form.querySelector("input[name=when][value=later]");
    var button = document.querySelector("button[form=composer][data-now]");
    if (button) { button.textContent = later && later.checked ? button.dataset.later : button.dataset.now; }
  }
  var composer = document.getElementById("composer");
  if (composer && composer.querySelector("[data-tabs]")) {
    composer.querySelector("[role=tablist]").hidden = false;
    showTab(composer, "all");
    syncComposer(composer);
    composer.addEventListener("change", function () { syncComposer(composer); });
    composer.querySelector("[role=tablist]").addEventListener("click", function (event) {
      var tab = event.target.closest("[role=tab]");
      if (tab) { showTab(composer, tab.id.replace("tab-", "")); }
    });
    composer.querySelector("[role=tablist]").addEventListener("keydown", function (event) {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") { return; }
      var tabs = Array.prototype.filter.call(composer.querySelectorAll("[role=tab]"), function (t) { return !t.hidden; });
      var at = tabs.indexOf(document.activeElement);
      // The arrow that points to the next tab: the right one, the left one in a right-to-left page.
      var forward = getComputedStyle(composer).direction === "rtl" ? "ArrowLeft" : "ArrowRight";
      var next = tabs[(at + (event.key === forward ? 1 : tabs.length - 1)) % tabs.length];
      showTab(composer, next.id.replace("tab-", ""));
      next.focus();
    });
  }
  // The library item: when the page's details arrive, show them, unless the marketer typed.
  document.addEventListener("unfurlFinished", function () {
    var form = document.getElementById("item-form");
    if (form && !form.dataset.changed) { window.location.reload(); }
  });
})();

// Assisted share (templates/content/_assisted_share.html): one click copies the approved
// text, disclosure included, to the clipboard and opens the network's share window with the
// tracked link. The copy comes first: once the new window has the focus, Chromium refuses to
// write the clipboard. Where the clipboard is unavailable (plain http, permission denied) the
// window still opens and the text is shown, selected, with words saying it was not copied.
(function () {
  "use strict";
  // The words come from the translation catalogue (/jsi18n/, loaded by base.html first);
  // without it (the catalogue failed to load) the scripts speak English.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, other, n) { return n === 1 ? one : other; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };

  function openWindow(link, status) {
    var opened = window.open(link.href, "_blank");
    if (opened) {
      opened.opener = null;
    } else {
      status.textContent += " " + gettext("If no window opened, your browser blocked it: allow pop-ups for this site and click again.");
    }
  }

  function showText(box, status) {
    var details = box.querySelector("[data-assisted-text]");
    var area = details.querySelector("textarea");
    status.textContent = interpolate(gettext("Could not copy the text to the clipboard. It is shown below, selected: copy it (Ctrl+C or ⌘C) and paste it in the %(network)s window."), {network: box.dataset.network}, true);
    status.classList.add("assisted-failed");
    details.open = true;
    area.focus();
    area.select();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-assisted-open]") : null;
    if (!link) { return; }
    var box = link.closest("[data-assisted]");
    var status = box.querySelector("[data-assisted-status]");
    var text = box.querySelector("[data-assisted-text] textarea").value;
    event.preventDefault();
    status.classList.remove("assisted-failed");
    var clipboard = window.isSecureContext && navigator.clipboard && navigator.clipboard.writeText ? navigator.clipboard : null;
    if (!clipboard) {
      showText(box, status);
      openWindow(link, status);
      return;
    }
    clipboard.writeText(text).then(function () {
      status.textContent = box.dataset.prefilled !== undefined
        ? interpolate(gettext("Copied. The %(network)s window has your words already; if not, paste them (Ctrl+V or ⌘V)."), {network: box.dataset.network}, true)
        : interpolate(gettext("Copied. Paste it in the %(network)s window (Ctrl+V or ⌘V)."), {network: box.dataset.network}, true);
      openWindow(link, status);
    }, function () {
      showText(box, status);
      openWindow(link, status);
    });
  });
})();

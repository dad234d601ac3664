// The site menu's disclosure button (base.html). Loaded right after the header, not deferred,
// so that at narrow widths the menu is already collapsed when the page first paints.
// Without this script the button stays hidden and the menu stays open (app.css).
(function () {
  "use strict";
  var button = document.querySelector("[data-menu-toggle]");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) { return; }
  function setOpen(open) { button.setAttribute("aria-expanded", open ? "true" : "false"); }
  setOpen(false);
  button.hidden = false;
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  // Escape closes the open menu and gives the focus back to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || button.getAttribute("aria-expanded") !== "true" || !button.offsetParent) { return; }
    if (menu.contains(document.activeElement) || document.activeElement === button) {
      setOpen(false);
      button.focus();
    }
  });
})();

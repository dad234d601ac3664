// The installable app: register the service worker (templates/pwa/sw.js, served at /sw.js
// so that its scope is the whole site). Browsers without service workers just browse.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) { return; }
  navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(function (error) {
    if (window.console) { console.warn("Service worker not registered:", error); }
  });
})();

/* The conversion snippet for an organization's own site (issue 17, point 2).
 *
 *   <script src="https://ADVOCACY/c/snippet.js" data-org="acme" async></script>
 *   ... later, when a visitor signs up:  advocacy.track("signup");
 *
 * On a landing page reached through an employee's tracked link (/r/<code> adds
 * utm_content=<code>), it keeps the code in a first-party cookie of this site for the
 * attribution window; `advocacy.track(name)` reports the event with that code to
 * /c/<org>/events, which accepts only this site's origin and the event names the
 * organization allowed. No third-party cookie, no value (values come from your server). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.org) { return; }
  var base = new URL(script.src).origin;
  var endpoint = base + "/c/" + encodeURIComponent(script.dataset.org) + "/events";
  var days = parseInt(script.dataset.days || "30", 10);
  var COOKIE = "adv_code";

  function readCookie() {
    var found = document.cookie.split("; ").filter(function (c) { return c.indexOf(COOKIE + "=") === 0; })[0];
    return found ? decodeURIComponent(found.slice(COOKIE.length + 1)) : "";
  }

  var code = new URLSearchParams(window.location.search).get("utm_content");
  if (code && /^[A-Za-z0-9_-]{1,32}$/.test(code)) {
    document.cookie = COOKIE + "=" + encodeURIComponent(code) + "; max-age=" + days * 86400 + "; path=/; SameSite=Lax" +
      (window.location.protocol === "https:" ? "; Secure" : "");
  }

  function eventId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function track(name, options) {
    var body = JSON.stringify({
      event_id: (options && options.eventId) || eventId(),
      event_name: name,
      tracking_code: readCookie(),
      occurred_at: new Date().toISOString()
    });
    // text/plain keeps it a simple request (no preflight); keepalive lets it finish as the page leaves.
    return fetch(endpoint, { method: "POST", body: body, headers: { "Content-Type": "text/plain" },
                             mode: "cors", credentials: "omit", keepalive: true })
      .then(function (response) { return response.json(); })
      .catch(function () { return null; });
  }

  var queued = (window.advocacy && window.advocacy.q) || [];
  window.advocacy = { track: track };
  queued.forEach(function (call) { track.apply(null, call); });
})();

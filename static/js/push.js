// "This device" on the notification preferences page: push notifications for this browser.
// Permission is asked only when the member clicks "Enable notifications on this device";
// the browser's PushSubscription is then saved for the member (accounts.views.push), and
// the kinds ticked in the table above decide what is pushed.
(function () {
  "use strict";
  // The words come from the translation catalogue (/jsi18n/, loaded by base.html first);
  // without it (the catalogue failed to load) the scripts speak English.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, other, n) { return n === 1 ? one : other; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };
  var box = document.querySelector("[data-push-device]");
  if (!box) { return; }
  var status = box.querySelector("[data-push-status]");
  var enable = box.querySelector("[data-push-enable]");
  var disable = box.querySelector("[data-push-disable]");

  function say(words) { status.textContent = words; }
  function show(subscribed) { enable.hidden = subscribed; disable.hidden = !subscribed; }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function post(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
      body: JSON.stringify(data)
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error((body.error && body.error.message) || gettext("The server refused.")); }
        return body;
      });
    });
  }
  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say(gettext("This browser cannot receive push notifications."));
    return;
  }
  var saved = [];
  try { saved = JSON.parse(box.dataset.endpoints || "[]"); } catch (e) { saved = []; }
  navigator.serviceWorker.ready.then(function (registration) {
    return registration.pushManager.getSubscription().then(function (subscription) {
      // The browser may hold a subscription the member never saved (another member's, who
      // signed out on this device): only a saved one counts as "receives".
      var receives = Boolean(subscription) && saved.indexOf(subscription.endpoint) !== -1;
      if (Notification.permission === "denied") {
        say(gettext("Notifications are blocked for this site in the browser's settings."));
      } else {
        say(receives ? gettext("This device receives your notifications.") : gettext("This device does not receive notifications."));
      }
      show(receives && Notification.permission !== "denied");
      if (Notification.permission === "denied") { enable.hidden = true; }

      enable.addEventListener("click", function () {
        enable.disabled = true;
        Notification.requestPermission().then(function (permission) {
          if (permission !== "granted") { throw new Error(gettext("Notifications were not allowed.")); }
          var options = {userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.key)};
          return registration.pushManager.subscribe(options).catch(function (error) {
            // Subscribed before with another server key (ours was replaced): start afresh once.
            if (error.name !== "InvalidStateError") { throw error; }
            return registration.pushManager.getSubscription().then(function (old) {
              return old ? old.unsubscribe() : null;
            }).then(function () { return registration.pushManager.subscribe(options); });
          });
        }).then(function (subscription) {
          return post(box.dataset.subscribeUrl, subscription.toJSON());
        }).then(function () {
          say(gettext("This device receives your notifications."));
          show(true);
        }).catch(function (error) {
          say(interpolate(gettext("Notifications could not be turned on: %(problem)s"), {problem: error.message}, true));
        }).then(function () { enable.disabled = false; });
      });

      disable.addEventListener("click", function () {
        disable.disabled = true;
        registration.pushManager.getSubscription().then(function (current) {
          if (!current) { return null; }
          var endpoint = current.endpoint;
          return current.unsubscribe().then(function () { return post(box.dataset.unsubscribeUrl, {endpoint: endpoint}); });
        }).then(function () {
          say(gettext("This device does not receive notifications."));
          show(false);
        }).catch(function (error) {
          say(interpolate(gettext("Notifications could not be turned off: %(problem)s"), {problem: error.message}, true));
        }).then(function () { disable.disabled = false; });
      });
    });
  });
})();

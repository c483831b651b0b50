// The portal link carries its token in the URL fragment (never sent to servers or logs). Trade it
// for an HttpOnly cookie at once, then drop it from the address bar and history.
(function () {
  "use strict";
  var match = /(?:^#|&)key=([^&]+)/.exec(window.location.hash);
  var status = document.getElementById("login-status");
  if (!match) { return; }
  history.replaceState(null, "", window.location.pathname);
  fetch("/portal/session", {
    method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: decodeURIComponent(match[1]) })
  }).then(function (r) {
    if (r.ok) { window.location.replace("/portal"); }
    else if (status) { status.textContent = "This portal link has expired or was revoked. Ask for a new link."; }
  });
})();

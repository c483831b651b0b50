// Progressive enhancement for the dashboard and portal. Every page works without it; it adds
// local times, copy buttons, live updates over SSE, and the portal's JSON-API forms.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function relative(date) {
    var s = Math.round((Date.now() - date.getTime()) / 1000), future = s < 0;
    s = Math.abs(s);
    var text = s < 45 ? "just now" : s < 3600 ? Math.round(s / 60) + " min" : s < 86400 ? Math.round(s / 3600) + " h" : Math.round(s / 86400) + " d";
    return text === "just now" ? text : future ? "in " + text : text + " ago";
  }
  function localTimes(root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = d.toISOString();
      el.textContent = d.toLocaleString() + " (" + relative(d) + ")";
    });
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    var text = target ? (target.value !== undefined && target.tagName !== "PRE" ? target.value : target.textContent) : "";
    var status = document.getElementById("copy-status");
    var done = function () { if (status) status.textContent = "Copied to the clipboard."; button.textContent = "Copied"; };
    if (navigator.clipboard) { navigator.clipboard.writeText(text).then(done, function () { if (status) status.textContent = "Copy failed: select the text and copy it."; }); }
  }

  function reload(el) {
    if (window.htmx) { window.htmx.ajax("GET", el.getAttribute("data-src"), { target: el, swap: "innerHTML" }); }
  }
  function liveRefresh(topic, data) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      if (el.getAttribute("data-live").split(" ").indexOf(topic) < 0) return;
      var key = el.getAttribute("data-live-key");
      if (key && String(data[key]) !== el.getAttribute("data-live-value")) return;
      reload(el);
    });
  }
  function connect() {
    var url = document.body.getAttribute("data-events");
    if (!url || !document.querySelector("[data-live]") || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var source = new EventSource(url);
    // Once connected (and after every reconnect), load each live list again: whatever was
    // recorded between the page's first load and the subscription sent no event to this page.
    source.onopen = function () {
      if (status) status.textContent = "Live: new activity appears here without a reload.";
      document.querySelectorAll("[data-live][data-src]").forEach(reload);
    };
    source.onerror = function () { if (status) status.textContent = "Live updates paused; reconnecting…"; };
    ["attempt.recorded", "inbound.received"].forEach(function (topic) {
      source.addEventListener(topic, function (e) { liveRefresh(topic, JSON.parse(e.data)); });
    });
  }

  function showErrors(form, body) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; el.hidden = true; });
    var general = form.querySelector('[data-error-for="_form"]');
    var details = body && Array.isArray(body.detail) ? body.detail : [{ loc: ["_form"], msg: (body && body.detail) || "The request failed." }];
    details.forEach(function (d) {
      var loc = (d.loc || []).filter(function (p) { return p !== "body"; });
      var slot = form.querySelector('[data-error-for="' + loc[0] + '"]') || general;
      if (slot) { slot.textContent = d.msg; slot.hidden = false; }
      var input = form.querySelector('[name="' + loc[0] + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); }
    });
  }
  function formJson(form) {
    var out = {};
    form.querySelectorAll("[name]").forEach(function (el) {
      var name = el.name, kind = el.getAttribute("data-kind");
      if (name === "csrf") return;
      if (el.type === "checkbox") {
        if (kind === "bool") { out[name] = el.checked; return; }
        out[name] = out[name] || [];
        if (el.checked) out[name].push(el.value);
        return;
      }
      var v = el.value.trim();
      if (kind === "list") { out[name] = v ? v.split(",").map(function (s) { return s.trim(); }).filter(Boolean) : null; }
      else if (kind === "utc") { out[name] = v ? (v.length === 16 ? v + ":00Z" : v + "Z") : null; }
      else if (kind === "int") { out[name] = v === "" ? null : Number(v); }
      else if (kind === "headers") {
        var h = {}; v.split("\n").forEach(function (line) { var i = line.indexOf(":"); if (i > 0) h[line.slice(0, i).trim()] = line.slice(i + 1).trim(); });
        out[name] = h;
      } else if (kind === "json") { try { out[name] = v ? JSON.parse(v) : null; } catch (e) { out[name] = v; } }
      else { out[name] = v; }
    });
    Object.keys(out).forEach(function (k) { if (Array.isArray(out[k]) && out[k].length === 0 && form.querySelector('[name="' + k + '"][data-empty="null"]')) out[k] = null; });
    return out;
  }
  function apiForm(form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var method = form.getAttribute("data-method") || "POST";
      var confirmText = form.getAttribute("data-confirm");
      if (confirmText && !window.confirm(confirmText)) return;
      fetch(form.getAttribute("data-api"), {
        method: method, credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: method === "DELETE" || method === "GET" ? undefined : JSON.stringify(formJson(form))
      }).then(function (r) {
        if (r.ok) {
          return r.text().then(function (t) {
            var show = form.getAttribute("data-show");
            if (show) { var body = t ? JSON.parse(t) : {}; var el = document.getElementById(show); el.textContent = body[form.getAttribute("data-show-field")] || ""; el.hidden = false; return; }
            var next = form.getAttribute("data-next");
            if (next) { window.location.assign(next); } else { window.location.reload(); }
          });
        }
        return r.json().then(function (body) { showErrors(form, body); }, function () { showErrors(form, null); });
      });
    });
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    if (b) { e.preventDefault(); copy(b); }
  });
  document.addEventListener("htmx:afterSwap", function (e) { localTimes(e.target); });
  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    document.querySelectorAll("form[data-api]").forEach(apiForm);
    connect();
    setInterval(function () { localTimes(document); }, 30000);
  });
})();

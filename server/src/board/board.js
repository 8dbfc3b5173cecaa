// The board's live updates: when the server says orders changed (a device
// synced, a dispatcher acted), each live part of the page re-fetches its own
// HTML from the server and swaps it in: no reload. Also ticks countdowns.
(function () {
  "use strict";

  function refresh(el) {
    var url = new URL(window.location.href);
    url.searchParams.set("part", el.dataset.live);
    return fetch(url, { credentials: "same-origin", headers: { "accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) {
          el.innerHTML = html;
          tick();
          document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
        }
      });
  }

  function changed(ids) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var watch = el.dataset.watch;
      if (watch === "*" || ids.indexOf("*") >= 0 || ids.indexOf(watch) >= 0) refresh(el);
    });
  }

  // The words come from the page (data-* on <body>), in the user's language.
  var say = document.body ? document.body.dataset : {};
  function human(ms) {
    var m = Math.round(Math.abs(ms) / 60000);
    var text = m >= 60
      ? (say.spanHm || "{h} h {m} min").replace("{h}", Math.floor(m / 60)).replace("{m}", m % 60)
      : (say.spanM || "{m} min").replace("{m}", m);
    return (ms < 0 ? (say.overdue || "overdue {span}") : (say.left || "{span} left")).replace("{span}", text);
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      el.textContent = human(Number(el.dataset.due) - now);
    });
  }

  if (window.EventSource && document.querySelector("[data-live]")) {
    var source = new EventSource("/board/events");
    source.addEventListener("orders", function (e) { changed(e.data.split(",")); });
  }
  tick();
  setInterval(tick, 1000);
})();

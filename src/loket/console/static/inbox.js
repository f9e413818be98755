// Loket inbox: live updates over server-sent events and keyboard handling (j/k, Enter, t, 1-3, r).
(function () {
  "use strict";
  var region = document.getElementById("queue-region");
  if (!region) { return; }
  var live = document.getElementById("live-status");
  var indicator = document.getElementById("live-indicator");
  var selected = null;
  var refreshing = null;

  function rows() { return Array.prototype.slice.call(region.querySelectorAll("tr.queue-row")); }

  function select(row, focus) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) { selected = null; return; }
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    selected = row.getAttribute("data-id");
    if (focus) {
      var link = row.querySelector("a.open-link");
      if (link) { link.focus(); }
    }
  }

  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var index = list.findIndex(function (r) { return r.getAttribute("data-id") === selected; });
    index = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + step));
    select(list[index], true);
  }

  function announce(text) {
    if (!live || !text) { return; }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function refresh(message) {
    if (refreshing) { return refreshing; }
    var url = region.getAttribute("data-rows-url");
    refreshing = fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error("refresh failed: " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var focusedInside = region.contains(document.activeElement);
        region.innerHTML = html;
        var row = selected && region.querySelector('tr.queue-row[data-id="' + selected + '"]');
        select(row || null, focusedInside && !!row);
        announce(message);
      })
      .catch(function () { /* the next event or a manual refresh (r) tries again */ })
      .then(function () { refreshing = null; });
    return refreshing;
  }

  function connect() {
    if (!window.EventSource) { return; }
    var source = new EventSource(region.getAttribute("data-events-url"));
    source.addEventListener("open", function () {
      indicator.textContent = indicator.getAttribute("data-connected");
      indicator.setAttribute("data-state", "on");
    });
    source.addEventListener("inbox", function (event) {
      var data = {};
      try { data = JSON.parse(event.data); } catch (e) { data = {}; }
      var text = data.kind === "handoff.created" ? live.getAttribute("data-msg-created") : live.getAttribute("data-msg-updated");
      refresh(text);
    });
    source.addEventListener("signed_out", function () { source.close(); window.location.assign("/console/login"); });
    source.addEventListener("error", function () {
      indicator.textContent = indicator.getAttribute("data-disconnected");
      indicator.setAttribute("data-state", "off");
    });
  }

  region.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("tr.queue-row");
    if (row) { select(row, false); }
  });
  region.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("tr.queue-row");
    if (row) { select(row, false); }
  });

  document.addEventListener("keydown", function (event) {
    var tag = event.target && event.target.tagName;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    if (event.key === "j") { event.preventDefault(); move(1); }
    else if (event.key === "k") { event.preventDefault(); move(-1); }
    else if (event.key === "r") { event.preventDefault(); refresh(live.getAttribute("data-msg-updated")); }
    else if (event.key === "t" && selected) {
      var take = region.querySelector('tr.queue-row[data-id="' + selected + '"] button.take');
      if (take) { event.preventDefault(); take.click(); }
    } else if (event.key === "Enter" && selected && tag !== "A" && tag !== "BUTTON") {
      var open = region.querySelector('tr.queue-row[data-id="' + selected + '"] a.open-link');
      if (open) { event.preventDefault(); window.location.assign(open.getAttribute("href")); }
    } else if (event.key === "1" || event.key === "2" || event.key === "3") {
      var tab = region.querySelector('a[data-tab-key="' + event.key + '"]');
      if (tab) { event.preventDefault(); window.location.assign(tab.getAttribute("href")); }
    }
  });

  connect();
})();

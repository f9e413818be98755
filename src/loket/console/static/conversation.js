// The conversation view: canned responses into the reply box, Ctrl+Enter to send, and the thread
// refreshed every few seconds without reloading the page (the forms work without this script).
(function () {
  "use strict";

  function cannedPicker() {
    var select = document.getElementById("canned");
    var box = document.getElementById("reply-text");
    if (!select || !box) { return; }
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var body = option ? option.getAttribute("data-body") : null;
      if (body && (!box.value.trim() || box.value === box.dataset.fromCanned)) {
        box.value = body;
        box.dataset.fromCanned = body;
        select.value = "";
        box.focus();
      }
    });
  }

  function sendShortcut() {
    var box = document.getElementById("reply-text");
    if (!box) { return; }
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && box.form) {
        event.preventDefault();
        box.form.requestSubmit();
      }
    });
  }

  function toNewest(holder) {
    var list = holder.querySelector(".thread");
    if (list) { list.scrollTop = list.scrollHeight; }
  }

  function refreshThread() {
    var holder = document.getElementById("thread");
    if (!holder) { return; }
    toNewest(holder);
    if (!holder.dataset.refresh || !window.fetch) { return; }
    var last = holder.innerHTML;
    setInterval(function () {
      if (document.hidden) { return; }
      fetch(holder.dataset.refresh, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null && html !== last) {
            var list = holder.querySelector(".thread");
            var atEnd = !list || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
            last = html;
            holder.innerHTML = html;
            if (atEnd) { toNewest(holder); }
          }
        })
        .catch(function () { /* the next tick tries again */ });
    }, 4000);
  }

  // "r" jumps to the reply box (or the first template value), "n" to the internal note; never while typing.
  function shortcuts() {
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
      if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
      var wanted = event.key === "r" ? document.querySelector("#reply-text, .template-form input[type=text]")
        : event.key === "n" ? document.getElementById("note") : null;
      if (wanted) {
        event.preventDefault();
        wanted.focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    shortcuts();
    cannedPicker();
    sendShortcut();
    refreshThread();
  });
})();

// Loket console: keyboard navigation shortcuts shared by every page ("g" then a letter).
(function () {
  "use strict";
  var pendingG = false;
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (pendingG) {
      pendingG = false;
      var link = document.querySelector('.mainnav a[data-shortcut="' + event.key + '"]');
      if (link) { event.preventDefault(); window.location.assign(link.getAttribute("href")); }
      return;
    }
    if (event.key === "g") { pendingG = true; window.setTimeout(function () { pendingG = false; }, 1500); }
  });
  window.loket = window.loket || {};
})();

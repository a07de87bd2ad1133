// viben studio: follow the store. When a file changes on disk, reload the page, unless a form
// on it holds edits not sent yet; then show the notice instead, so nothing typed is lost.
(function () {
  "use strict";
  if (!window.EventSource || !document.body.hasAttribute("data-live")) return;
  var edited = false;
  document.addEventListener("input", function () { edited = true; });
  var source = new EventSource("/events");
  source.addEventListener("ready", function () {
    document.body.setAttribute("data-watching", "");
  });
  source.addEventListener("change", function () {
    if (!edited) {
      window.location.reload();
      return;
    }
    var notice = document.getElementById("changed-on-disk");
    if (notice) notice.hidden = false;
  });
})();

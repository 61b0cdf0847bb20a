// Shows each <time datetime> in the viewer's local time and zone; the UTC text the server wrote moves to the
// title. Runs on load and after every htmx swap. Without JavaScript the UTC text stays.
(function () {
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
  });
  function showLocal(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (node) {
      var moment = new Date(node.getAttribute("datetime"));
      if (isNaN(moment.getTime())) return;
      node.title = node.title || node.textContent;
      node.textContent = format.format(moment);
      node.setAttribute("data-local", "");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { showLocal(document); });
  document.addEventListener("htmx:afterSettle", function (event) { showLocal(event.target); });
})();

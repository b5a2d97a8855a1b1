// Records every script error, console error and blocked load into #page-status, and counts the
// charts that were drawn, so a headless browser (and the tests) can tell the page rendered.
(function () {
  "use strict";
  var errors = [];
  function record(message) { errors.push(String(message)); }
  window.addEventListener("error", function (event) {
    record(event.message || ("failed to load " + (event.target && event.target.tagName)));
  }, true);
  window.addEventListener("unhandledrejection", function (event) {
    record("unhandled rejection: " + event.reason);
  });
  document.addEventListener("securitypolicyviolation", function (event) {
    record("blocked by the page's policy: " + event.violatedDirective + " " + event.blockedURI);
  });
  var consoleError = console.error;
  console.error = function () {
    record(Array.prototype.join.call(arguments, " "));
    return consoleError.apply(console, arguments);
  };
  function check() {
    var charts = document.querySelectorAll("svg.chart");
    var drawn = 0;
    for (var i = 0; i < charts.length; i++) {
      var box = charts[i].getBoundingClientRect();
      if (box.width > 0 && box.height > 0 && charts[i].querySelector("polyline, rect")) {
        drawn++;
      }
    }
    var status = document.getElementById("page-status");
    status.setAttribute("data-charts", String(charts.length));
    status.setAttribute("data-charts-drawn", String(drawn));
    status.setAttribute("data-errors", String(errors.length));
    status.textContent = errors.join("\n");
    status.setAttribute("data-ready", "true");
  }
  window.addEventListener("load", function () { window.setTimeout(check, 0); });
})();

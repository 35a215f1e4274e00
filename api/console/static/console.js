// onewindow console: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Confirm destructive actions (terminate a case, revoke a user): <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Filters apply as soon as a choice changes: <form class="filters" data-autosubmit>.
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-autosubmit") && event.target.tagName === "SELECT") {
      form.submit();
    }
  });
  // The live diagram: refresh the case's SVG every 20 seconds while the page is visible.
  function refreshDiagram(box) {
    var url = box.getAttribute("data-refresh");
    if (!url || document.hidden) { return; }
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.onload = function () {
      if (request.status === 200 && request.responseXML && request.responseXML.documentElement) {
        var fresh = document.importNode(request.responseXML.documentElement, true);
        var old = box.querySelector("svg");
        if (old) { box.replaceChild(fresh, old); } else { box.appendChild(fresh); }
      }
    };
    request.send();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-refresh]");
    Array.prototype.forEach.call(boxes, function (box) {
      window.setInterval(function () { refreshDiagram(box); }, 20000);
    });
  });
}());

// The evidence panel: dropping a file on a drop zone sends its form, and while
// a graph snapshot is being captured the page reloads once none is pending.
(function () {
  "use strict";
  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    var form = zone.closest("form");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer.files.length) { return; }
      input.files = event.dataTransfer.files;
      form.submit();
    });
    input.addEventListener("change", function () { if (input.files.length) { form.submit(); } });
  });
// While a snapshot is being captured, ask the API now and then; reload once none is pending.
  (function () {
    var panel = document.getElementById("evidence");
    if (!panel || !panel.querySelector(".status-pending")) { return; }
    var tries = 0;
    var timer = setInterval(function () {
      tries += 1;
      if (tries > 40) { clearInterval(timer); return; }
      fetch(panel.dataset.graphsUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (snapshots) {
          if (snapshots && !snapshots.some(function (snapshot) { return snapshot.status === "pending"; })) {
            clearInterval(timer);
            window.location.reload();
          }
        });
    }, 3000);
  })();
}());

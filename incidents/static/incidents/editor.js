// The postmortem editor: a debounced live preview with the blameless-language
// check, and a heartbeat that shows who else has the editor open.
(function () {
  "use strict";
  // The addresses come from the form's data attributes (no inline script: see the CSP).
  var form = document.querySelector("form[data-check-url]");
  var checkUrl = form ? form.dataset.checkUrl : "";
  var editingUrl = form ? form.dataset.editingUrl : "";
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) { return response.ok ? response.json() : null; });
  }
  function showFindings(box, findings) {
    box.textContent = "";
    if (!findings.length) return;
    var list = document.createElement("ul");
    list.className = "findings";
    findings.forEach(function (finding) {
      var item = document.createElement("li");
      var mark = document.createElement("mark");
      mark.textContent = finding.matched;
      item.appendChild(mark);
      item.appendChild(document.createTextNode(" (line " + finding.line + ") — " + finding.reason + " "));
      var em = document.createElement("em");
      em.textContent = finding.suggestion;
      item.appendChild(em);
      list.appendChild(item);
    });
    box.appendChild(list);
  }
  document.querySelectorAll("textarea[data-check]").forEach(function (area) {
    var preview = document.getElementById("preview-" + area.name);
    var box = document.getElementById("findings-" + area.name);
    var timer = null, sent = null;
    function refresh() {
      if (area.value === sent) return;
      sent = area.value;
      post(checkUrl, { text: area.value }).then(function (result) {
        if (!result || sent !== area.value) return;
        // The server renders and sanitises (nh3): this HTML is safe to insert.
        preview.innerHTML = result.html;
        showFindings(box, result.findings);
        area.classList.toggle("has-findings", result.findings.length > 0);
      });
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
    if (area.value) refresh();
  });
  if (editingUrl) {
    var presence = document.getElementById("presence");
    var beat = function () {
      post(editingUrl).then(function (result) {
        if (!result) return;
        presence.textContent = "";
        if (result.editing.length) {
          var list = document.createElement("ul"), item = document.createElement("li");
          list.className = "messages"; item.className = "warning";
          item.textContent = result.editing.join(", ") + (result.editing.length > 1 ? " are" : " is") + " editing this incident right now.";
          list.appendChild(item); presence.appendChild(list);
        }
      });
    };
    setInterval(beat, 60000);
  }
})();

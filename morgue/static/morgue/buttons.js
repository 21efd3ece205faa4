// Buttons wired by data attributes, so no page needs inline script (the
// Content-Security-Policy allows scripts from Morgue's own files only):
//   data-copy="ID"  copies the value (or text) of the element with that id;
//   data-print      opens the browser's print dialog.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy], button[data-print]");
    if (!button) { return; }
    if (button.hasAttribute("data-print")) {
      window.print();
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    var text = "value" in source ? source.value : source.textContent;
    navigator.clipboard.writeText(text).then(function () {
      button.textContent = "Copied";
    });
  });
}());

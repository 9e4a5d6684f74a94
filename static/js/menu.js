// The header's menu on a phone: the navigation folds behind one "Menu" button (CSS shows the
// button below 640 px only). Without this script the navigation simply stays open.
(function () {
  "use strict";
  var header = document.querySelector(".site-header");
  var button = header && header.querySelector(".menu-toggle");
  if (!button) {
    return;
  }
  header.classList.add("has-menu");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("menu-open", open);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      button.setAttribute("aria-expanded", "false");
      header.classList.remove("menu-open");
      button.focus();
    }
  });
})();

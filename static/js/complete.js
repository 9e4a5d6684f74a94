// Completion page (T8): poll the order until the worker has extended the license.
(function () {
  "use strict";
  var box = document.getElementById("extension");
  if (!box || box.dataset.fulfilled === "1") { return; }
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.fulfilled) {
          document.getElementById("new-expiry").textContent = data.expires_on;
          box.querySelector(".extension-done").hidden = false;
          box.querySelector(".extension-pending").hidden = true;
          box.dataset.fulfilled = "1";
          return;
        }
        if (tries < 450) { setTimeout(poll, tries < 30 ? 2000 : 10000); }
      })
      .catch(function () { if (tries < 450) { setTimeout(poll, 10000); } });
  }
  setTimeout(poll, 1500);
})();

// The confirm step (T5): one click charges once; the button says it is busy.
document.getElementById("confirm-form").addEventListener("submit", function (event) {
  var button = document.getElementById("confirm-button");
  if (button.disabled) { event.preventDefault(); return; }
  button.disabled = true;
  button.textContent = button.dataset.busyLabel;
});

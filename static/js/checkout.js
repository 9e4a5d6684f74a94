// Details step (T4, DESIGN 5.2): the card Element from stripe.js, confirmed as a SetupIntent in the
// page (3-D Secure may be asked here). Only the PaymentMethod id (pm_…) is sent to our server.
(function () {
  "use strict";
  var script = document.getElementById("checkout-js");
  var form = document.getElementById("details-form");
  var methodField = form.querySelector("input[name=payment_method]");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("next-button");
  var newCardParts = document.querySelectorAll(".new-card-only");
  var hasCard = script.dataset.hasCard === "1";
  var clientSecret = script.dataset.clientSecret;
  var texts = JSON.parse(document.getElementById("card-messages").textContent);
  var stripe = window.Stripe(script.dataset.publishableKey);
  var card = stripe.elements({ locale: document.documentElement.lang }).create("card", { hidePostalCode: true });
  var emptyByEvent = true;
  card.mount("#card-element");
  if (card.on) {
    // localstripe calls change handlers without an event.
    card.on("change", function (event) { if (event) { emptyByEvent = event.empty; } });
  }

  function chosenCard() {
    var choice = form.querySelector("input[name=card]:checked");
    return choice ? choice.value : "new";
  }

  function showChoice() {
    Array.prototype.forEach.call(newCardParts, function (part) { part.hidden = chosenCard() !== "new"; });
  }
  Array.prototype.forEach.call(form.querySelectorAll("input[name=card]"), function (radio) {
    radio.addEventListener("change", showChoice);
  });
  showChoice();

  function cardIsEmpty() {
    // Real Stripe renders an iframe and reports emptiness by event; localstripe renders inputs.
    var inputs = Array.prototype.slice.call(document.querySelectorAll("#card-element input"));
    if (inputs.length) { return inputs.every(function (input) { return !input.value.trim(); }); }
    return emptyByEvent;
  }

  function showError(message) {
    errors.innerHTML = "";
    var item = document.createElement("li");
    item.textContent = message;
    errors.appendChild(item);
    document.getElementById("card-field").classList.add("has-error");
    button.disabled = false;
  }

  function setupError(error) {
    // Our own wording by Stripe's code, in the page's language.
    return texts[(error && error.code) || "default"] || texts["default"];
  }

  function submit() {
    form.dataset.ready = "1";
    form.submit();
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.ready === "1") { return; }
    event.preventDefault();
    button.disabled = true;
    if (chosenCard() !== "new") { submit(); return; }  // a saved card
    if (cardIsEmpty() && (hasCard || methodField.value)) { submit(); return; }  // the card on file
    if (cardIsEmpty()) { showError(script.dataset.cardError); return; }
    if (!clientSecret) { showError(texts.unavailable); return; }
    stripe.confirmCardSetup(clientSecret, { payment_method: { card: card } }).then(function (result) {
      if (result.error) { showError(setupError(result.error)); return; }
      var method = result.setupIntent.payment_method;
      methodField.value = typeof method === "string" ? method : method.id;
      submit();
    }, function () { showError(texts["default"]); });
  });
})();

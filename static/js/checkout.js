// Details step (T4, DESIGN 5.1): mount the card Element from stripe.js and send only a token.
(function () {
  "use strict";
  var script = document.getElementById("checkout-js");
  var form = document.getElementById("details-form");
  var tokenField = form.querySelector("input[name=card_token]");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("next-button");
  var hasCard = script.dataset.hasCard === "1";
  var stripe = window.Stripe(script.dataset.publishableKey);
  var card = stripe.elements({ locale: document.documentElement.lang }).create("card", { hidePostalCode: true });
  var emptyByEvent = true;
  card.mount("#card-element");
  if (card.on) {
    // localstripe calls change handlers without an event.
    card.on("change", function (event) { if (event) { emptyByEvent = event.empty; } });
  }

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
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.tokenized === "1") { return; }
    event.preventDefault();
    button.disabled = true;
    if (hasCard && cardIsEmpty()) {
      tokenField.value = "";
      form.dataset.tokenized = "1";
      form.submit();
      return;
    }
    stripe.createToken(card).then(function (result) {
      if (result.error) {
        showError(result.error.message || script.dataset.cardError);
        return;
      }
      tokenField.value = result.token.id;
      form.dataset.tokenized = "1";
      form.submit();
    }, function () { showError(script.dataset.cardError); });
  });
})();

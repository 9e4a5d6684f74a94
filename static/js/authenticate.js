// 3-D Secure (T6, DESIGN 5.4): let stripe.js run the bank's challenge, then let the server decide.
(function () {
  "use strict";
  var script = document.getElementById("authenticate-js");
  var form = document.getElementById("authenticate-form");
  var stripe = window.Stripe(script.dataset.publishableKey);
  var secret = script.dataset.clientSecret;
  var challenge = typeof stripe.handleNextAction === "function"
    ? stripe.handleNextAction({ clientSecret: secret })
    : stripe.confirmCardPayment(secret);
  // Success or failure, the server re-reads the PaymentIntent: the page never decides.
  Promise.resolve(challenge).then(function () { form.submit(); }, function () { form.submit(); });
})();

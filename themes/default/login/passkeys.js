// The WebAuthn ceremonies of the passkey forms (sign-in and registration). A form marked data-passkey="get" or
// "create" fetches its options from data-options (posting its own fields, antiforgery token included), lets the
// browser ask the authenticator, and posts the authenticator's answer as JSON in its data-credential field. A browser
// without WebAuthn, or a person who cancels, posts an empty credential and the server says it did not work.
"use strict";
(() => {
  const parseCreation = options => PublicKeyCredential.parseCreationOptionsFromJSON(options);
  const parseRequest = options => PublicKeyCredential.parseRequestOptionsFromJSON(options);

  async function ask(form) {
    if (typeof PublicKeyCredential === "undefined" || typeof PublicKeyCredential.parseRequestOptionsFromJSON !== "function") {
      return "";
    }

    const response = await fetch(form.dataset.options, { method: "POST", body: new FormData(form), credentials: "same-origin" });
    if (!response.ok) {
      return "";
    }

    const options = await response.json();
    const credential = form.dataset.passkey === "create"
      ? await navigator.credentials.create({ publicKey: parseCreation(options) })
      : await navigator.credentials.get({ publicKey: parseRequest(options) });
    return credential ? JSON.stringify(credential) : "";
  }

  document.querySelectorAll("form[data-passkey]").forEach(form => {
    form.addEventListener("submit", async event => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      let answer = "";
      try {
        answer = await ask(form);
      } catch (error) {
        // NotAllowedError (cancelled or timed out), InvalidStateError (already registered): the server answers for both.
        console.warn("passkey:", error && error.name);
      }
      form.querySelector("input[data-credential]").value = answer;
      form.submit();
    });
  });
})();

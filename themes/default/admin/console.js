// Forms marked data-api-form post JSON to the admin API (where that resource's rules live) with the
// console's antiforgery token, then follow data-success ({id} = the created resource) or show the
// RFC 9457 problem details next to the fields.
"use strict";
document.querySelectorAll("form[data-api-form]").forEach(form => {
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const alert = form.querySelector("[data-api-alert]");
    form.querySelectorAll("[data-error-for]").forEach(e => { e.textContent = ""; });
    alert.hidden = true;
    const body = {};
    new FormData(form).forEach((value, key) => { if (key !== "__RequestVerificationToken") body[key] = value; });
    const response = await fetch(form.dataset.apiForm, {
      method: "POST",
      headers: { "Content-Type": "application/json", "RequestVerificationToken": form.querySelector("[name=__RequestVerificationToken]").value },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (response.ok) {
      const created = await response.json();
      window.location.assign(form.dataset.success.replace("{id}", encodeURIComponent(created.id)));
      return;
    }
    let problem = { title: response.status + " " + response.statusText };
    try { problem = await response.json(); } catch { /* not JSON */ }
    alert.querySelector("strong").textContent = problem.title || String(response.status);
    for (const [field, messages] of Object.entries(problem.errors || {})) {
      const target = form.querySelector(`[data-error-for="${field}"]`);
      if (target) target.textContent = messages.join(" ");
    }
    alert.hidden = false;
  });
});

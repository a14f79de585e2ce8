// A secret shown once: focusing the field selects it, and the copy button (hidden without JavaScript, where the
// field is copied by hand) copies its value and says so.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(button => {
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.addEventListener("focus", () => field.select());
  if (!navigator.clipboard) return;
  const label = button.textContent;
  button.hidden = false;
  button.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = button.dataset.copied;
    } catch {
      button.textContent = label;
    }
  });
});

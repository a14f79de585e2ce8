// The confirmation step of a destructive action arrives as an open dialog in the page (it works without this script);
// here it becomes modal: focus stays inside, the page behind is inert, and Escape goes back as "Cancel" does.
"use strict";
document.querySelectorAll("dialog[data-confirm][open]").forEach(dialog => {
  if (typeof dialog.showModal !== "function") return;
  dialog.close();
  dialog.showModal();
  dialog.addEventListener("cancel", event => {
    event.preventDefault();
    window.location.assign(dialog.dataset.cancel);
  });
});

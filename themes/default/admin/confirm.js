// The confirmation step of a destructive action arrives as an open dialog in the page (it works without this script);
// here it becomes modal: focus stays inside, the page behind is inert, and Escape goes back as "Cancel" does.
"use strict";
document.querySelectorAll("dialog[data-confirm][open]").forEach(dialog => {
  if (typeof dialog.showModal !== "function") return;
  dialog.close();
  dialog.showModal();
  let leaving = false;
  const back = () => {
    if (leaving) return;
    leaving = true;
    window.location.assign(dialog.dataset.cancel);
  };
  dialog.addEventListener("cancel", event => {
    event.preventDefault();
    back();
  });
  // Escape itself, before Chromium's close watcher decides whether this page may be sent a cancel event at all.
  dialog.addEventListener("keydown", event => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    back();
  });
  // Chromium closes a dialog on Escape without a cancel event when the page has had no user activation (a page just
  // opened by a link); the close event still comes. The close() above queues one too, seen while the dialog is open again.
  dialog.addEventListener("close", () => {
    if (!dialog.open) back();
  });
});

// A running full sync: polls its progress endpoint (admin API, console cookie) once a second and moves the
// progress bar until the sync is done.
"use strict";
document.querySelectorAll("[data-full-sync]").forEach(box => {
  if (box.dataset.done === "true") return;
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-sync-text]");
  const template = text.textContent;
  const timer = setInterval(async () => {
    const response = await fetch(box.dataset.fullSync, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) { clearInterval(timer); return; }
    const progress = await response.json();
    bar.max = Math.max(1, progress.total);
    bar.value = progress.total === 0 ? 1 : progress.processed;
    bar.textContent = progress.percent + " %";
    text.textContent = template.replace(/\d+\s*\/\s*\d+/, `${progress.processed} / ${progress.total}`);
    if (progress.done) clearInterval(timer);
  }, 1000);
});

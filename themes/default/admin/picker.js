// User and department pickers: a plain text input the server resolves (it works without this script) made into a
// WAI-ARIA combobox with a list popup (ARIA APG "combobox with list autocomplete"): type to search the lookup endpoint,
// ArrowDown/ArrowUp to move, Enter to choose, Escape to close (then to clear). Choosing fills the hidden id; typing clears it.
"use strict";
document.querySelectorAll("[data-picker]").forEach(picker => {
  const input = picker.querySelector("input[type=text]");
  const hidden = picker.querySelector("[data-picker-value]");
  if (!input || !hidden) return;
  // The listbox is named by its combobox (aria-controls), as in the GOV.UK accessible-autocomplete.
  const listbox = document.createElement("ul");
  listbox.id = `${input.id}-listbox`;
  listbox.className = "picker-list";
  listbox.setAttribute("role", "listbox");
  listbox.hidden = true;
  // Screen readers hear how many matches there are; the list itself is not read out on every keystroke.
  const status = document.createElement("span");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  picker.append(listbox, status);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listbox.id);

  let items = [];
  let active = -1;
  let timer = 0;
  let latest = 0;
  const format = (text, value) => text.replace("{0}", String(value));

  const close = () => {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const highlight = index => {
    active = index;
    listbox.querySelectorAll("[role=option]").forEach((option, i) => option.setAttribute("aria-selected", i === index ? "true" : "false"));
    const option = document.getElementById(`${listbox.id}-${index}`);
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  };

  const choose = index => {
    const item = items[index];
    if (!item) return;
    input.value = item.label;
    hidden.value = item.id;
    close();
    input.dispatchEvent(new Event("change", { bubbles: true }));
  };

  const render = answer => {
    items = answer.items || [];
    listbox.replaceChildren(...items.map((item, i) => {
      const option = document.createElement("li");
      option.id = `${listbox.id}-${i}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.testid = "picker-option";
      option.append(item.label);
      if (item.detail) {
        const detail = document.createElement("small");
        detail.textContent = item.detail;
        option.append(detail);
      }
      // mousedown, not click: the input keeps the focus, so the list does not close first.
      option.addEventListener("mousedown", event => { event.preventDefault(); choose(i); });
      return option;
    }));
    status.textContent = items.length === 0 ? picker.dataset.pickerNone
      : format(picker.dataset.pickerCount, items.length) + (answer.more ? " " + picker.dataset.pickerMore : "");
    active = -1;
    input.removeAttribute("aria-activedescendant");
    listbox.hidden = items.length === 0;
    input.setAttribute("aria-expanded", items.length === 0 ? "false" : "true");
  };

  const search = async () => {
    const text = input.value.trim();
    if (!text) { close(); status.textContent = ""; return; }
    const mine = ++latest;
    try {
      const response = await fetch(`${picker.dataset.picker}?q=${encodeURIComponent(text)}`,
        { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (mine !== latest || !response.ok) return;
      render(await response.json());
    } catch {
      // Offline or signed out: the plain field still works, the server resolves what was typed.
    }
  };

  input.addEventListener("input", () => {
    hidden.value = "";
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  input.addEventListener("keydown", event => {
    const open = !listbox.hidden && items.length > 0;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (open) highlight(Math.min(active + 1, items.length - 1)); else search();
        break;
      case "ArrowUp":
        if (open) { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
        break;
      case "Enter":
        // Enter chooses the highlighted match; with none highlighted it submits the form (the server resolves the text).
        if (open && active >= 0) { event.preventDefault(); choose(active); }
        break;
      case "Escape":
        if (open) { event.preventDefault(); close(); } else if (input.value) { event.preventDefault(); input.value = ""; hidden.value = ""; }
        break;
      default:
        break;
    }
  });
  input.addEventListener("blur", close);
});

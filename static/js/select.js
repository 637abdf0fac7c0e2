// Selecting rows of a watchlist: a bar appears to remove them or copy their IDs.
(() => {
  const picked = () => [...document.querySelectorAll('input[form="bulk-form"]:checked')];

  function refreshBar() {
    const bar = document.getElementById("bulk-form");
    if (!bar) return;
    const count = picked().length;
    bar.hidden = count === 0;
    document.getElementById("bulk-count").textContent = `${count} selected`;
  }

  document.addEventListener("change", (event) => {
    if (event.target.id === "pick-all") {
      for (const box of document.querySelectorAll('input[form="bulk-form"]')) box.checked = event.target.checked;
    }
    if (event.target.id === "pick-all" || event.target.form?.id === "bulk-form") refreshBar();
  });

  document.addEventListener("click", async (event) => {
    if (event.target.id !== "copy-picked") return;
    const ids = picked().map((box) => box.value).join("\n");
    try {
      await navigator.clipboard.writeText(ids);
      event.target.textContent = `Copied ${picked().length}`;
    } catch {
      event.target.textContent = "Copy failed";
    }
    setTimeout(() => { event.target.textContent = "Copy selected IDs"; }, 1500);
  });

  document.addEventListener("htmx:afterSettle", refreshBar);
})();

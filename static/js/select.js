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

  document.addEventListener("click", (event) => {
    if (event.target.id !== "copy-picked") return;
    const boxes = picked();
    window.jobsiteCopy(event.target, boxes.map((box) => box.value).join("\n"), `Copied ${boxes.length}`);
  });

  document.addEventListener("htmx:afterSettle", refreshBar);
})();

// Copy buttons: any element with data-copy puts that text on the clipboard. Delegated from the
// document so rows swapped in by htmx work without re-binding.
(() => {
  // Puts `text` on the clipboard and says so on the button for a moment.
  window.jobsiteCopy = async (button, text, copiedLabel = "Copied") => {
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = copiedLabel;
    } catch {
      button.textContent = "Copy failed";
    }
    setTimeout(() => { button.textContent = label; }, 1500);
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (button) window.jobsiteCopy(button, button.dataset.copy);
  });
})();

// Controls marked data-submit-on-change (the watchlist's sort) apply as soon as they change:
// they submit their form, which htmx boosts. The form keeps its button for typed searches and
// for browsers without script.
document.addEventListener("change", (event) => {
  const control = event.target.closest?.("[data-submit-on-change]");
  if (control?.form) control.form.requestSubmit();
});

// Live watchlist page: every refresh, a 204 included, says when the unfinished jobs were last
// checked (X-Jobsite-Checked). Show that time on the rows that are still being watched.
document.addEventListener("htmx:afterRequest", (event) => {
  const checked = event.detail.xhr && event.detail.xhr.getResponseHeader("X-Jobsite-Checked");
  if (!checked) return;
  const when = new Date(checked);
  const text = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  for (const time of document.querySelectorAll("#live time[data-live]")) {
    time.dateTime = checked;
    time.textContent = text;
  }
});

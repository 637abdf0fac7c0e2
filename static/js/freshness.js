// How fresh what a live page shows is, told honestly. "updated N s ago" counts from the oldest
// check among the watchlist's unfinished jobs (X-Jobsite-Checked on every refresh answer, 204s
// included; data-checked on the first render), not from the last request that went through: while
// upstream fails, refreshes still succeed but the count keeps growing. The "Unfinished jobs
// checked at" times follow the same header. During an outage the problem banner counts down, each
// second, to jobsite's next try (data-retry-in: seconds as of its render; X-Jobsite-Retry-In, when
// an answer carries it, brings it up to date between renders).
(() => {
  const CHECKED_HEADER = "X-Jobsite-Checked";
  const RETRY_HEADER = "X-Jobsite-Retry-In";

  // Browser and server clocks may disagree: an age is worked out on the server's clock (the
  // answer's Date header, or the render time) and counted on from now on the browser's.
  let checkedAt = null; // browser time (ms) of the oldest check among unfinished jobs
  let seenAgo = null; // the #updated-ago element checkedAt was first read from

  function browserTime(serverSeconds, serverNowMs) {
    return Date.now() - Math.max(0, serverNowMs - serverSeconds * 1000);
  }

  function timeText(when) {
    return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  function ageText(ms) {
    const seconds = Math.max(0, Math.round(ms / 1000));
    if (seconds < 120) return `${seconds} s`;
    if (seconds < 120 * 60) return `${Math.floor(seconds / 60)} min`;
    if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)} h`;
    return `${Math.floor(seconds / 86400)} days`;
  }

  // A page rendered (or boosted in) afresh: its own figures are the baseline.
  function readRender() {
    const ago = document.getElementById("updated-ago");
    if (!ago || ago === seenAgo) return;
    seenAgo = ago;
    checkedAt = ago.dataset.checked ? browserTime(Number(ago.dataset.checked), Number(ago.dataset.rendered) * 1000) : null;
  }

  // Countdowns: when each banner's next try is due, in browser time.
  const deadlines = new WeakMap();

  function deadlineOf(element) {
    const entry = deadlines.get(element);
    if (entry && entry.from === element.dataset.retryIn) return entry.at;
    const at = Date.now() + Number(element.dataset.retryIn || 0) * 1000;
    deadlines.set(element, { from: element.dataset.retryIn, at });
    return at;
  }

  function tick() {
    readRender();
    const ago = document.getElementById("updated-ago");
    if (ago) {
      if (window.jobsitePaused) ago.textContent = "paused";
      else ago.textContent = checkedAt === null ? "not checked yet" : `updated ${ageText(Date.now() - checkedAt)} ago`;
    }
    for (const element of document.querySelectorAll("[data-retry-in]")) {
      const left = deadlineOf(element) - Date.now();
      element.textContent = left > 500 ? `in ${ageText(left)}` : "now";
    }
  }

  document.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    if (!xhr) return;
    const date = Date.parse(xhr.getResponseHeader("Date") || "");
    const serverNow = Number.isNaN(date) ? Date.now() : date;
    const checked = xhr.getResponseHeader(CHECKED_HEADER);
    if (checked) {
      checkedAt = browserTime(Number(checked), serverNow);
      const when = new Date(Number(checked) * 1000);
      for (const time of document.querySelectorAll("#live time[data-live]")) {
        time.dateTime = when.toISOString();
        time.textContent = timeText(when);
      }
    }
    const retry = xhr.getResponseHeader(RETRY_HEADER);
    if (retry !== null) {
      for (const element of document.querySelectorAll("#live [data-retry-in]")) {
        element.dataset.retryIn = retry;
        deadlines.set(element, { from: retry, at: Date.now() + Number(retry) * 1000 });
      }
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    tick();
    setInterval(tick, 1000);
  });
})();

// The live pages (a watchlist, a job, home), the parts only a browser can do: when to poll, the
// tab title and icon, pausing, announcing changes to screen readers, and opt-in notifications.
// How fresh the data is ("updated N s ago", the outage countdown) is static/js/freshness.js.
(() => {
  // A state's colour from the palette static/css/site.css keeps (--state-<state>), in the
  // colour scheme the page shows; "" for a state it has no colour for.
  function stateColour(state) {
    return getComputedStyle(document.documentElement).getPropertyValue(`--state-${state}`).trim();
  }

  // A hidden tab polls this rarely: failures are still told about, just later.
  const HIDDEN_POLL_MS = 60_000;
  let lastPoll = Date.now();  // the page itself was fresh when it loaded
  window.jobsitePaused = false;

  // Poll now? Not while paused, nor once the server answered 286 (the tab being shown again must
  // not wake a finished page); in a hidden tab, only a minute after the last poll; otherwise yes.
  function shouldPoll(element) {
    if (window.jobsitePaused || element.dataset.pollStopped) return false;
    if (document.hidden && Date.now() - lastPoll < HIDDEN_POLL_MS) return false;
    lastPoll = Date.now();
    return true;
  }

  // Polling without eval, which the Content-Security-Policy forbids (htmx evaluates trigger
  // filters): each live element (templates/watchlists/_poll.html) gets "jobsite:poll" on a timer
  // of its own pollInterval, and at once when the tab is shown again, whenever shouldPoll agrees.
  function poll(element, reason) {
    if (shouldPoll(element)) htmx.trigger(element, "jobsite:poll", { reason });
  }

  function startPolling(element) {
    if (element.dataset.polling) return;
    element.dataset.polling = "true";
    const timer = setInterval(() => {
      if (!element.isConnected) clearInterval(timer);  // left the page (a boosted navigation)
      else poll(element, "tick");
    }, Number(element.dataset.pollEvery) * 1000);
  }

  htmx.onLoad((root) => {
    const found = root.querySelectorAll ? [...root.querySelectorAll("[data-poll-every]")] : [];
    if (root.matches?.("[data-poll-every]")) found.push(root);
    found.forEach(startPolling);
  });

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) document.querySelectorAll("[data-poll-every]").forEach((element) => poll(element, "shown"));
  });

  const live = () => document.getElementById("live");
  const summary = () => document.getElementById("live-summary");

  function announce(text) {
    const announcer = document.getElementById("announcer");
    if (announcer) announcer.textContent = text;
  }

  function notify(title, body) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    if (localStorage.getItem("jobsite-notify") !== "on") return;
    new Notification(title, { body, tag: "jobsite-" + title });
  }

  // While upstream fails (a problem banner or note on the page, templates/watchlists/_problem.html)
  // the tab title starts with a warning sign, so a background tab says so too.
  const FAILING = "⚠ ";
  function reflectProblem() {
    const base = document.title.startsWith(FAILING) ? document.title.slice(FAILING.length) : document.title;
    document.title = (document.querySelector("[data-error-kind]") ? FAILING : "") + base;
  }

  // Title "(3 active, 1 failed) Nightly loads" and a favicon in the colour of the worst state.
  function reflectSummary() {
    const element = summary();
    if (!element) return;
    const counts = element.dataset.titleCounts;
    const name = element.dataset.name;
    document.title = (counts ? `(${counts}) ` : "") + name + " · jobsite";
    const colour = stateColour(element.dataset.worst) || stateColour("created");
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="${colour}"/></svg>`;
    let icon = document.querySelector("link[rel=icon]");
    icon.href = "data:image/svg+xml," + encodeURIComponent(svg);
  }

  // Failures are counted from the summary, which covers the whole list: a job that fails on
  // another page, or leaves a filtered view, is told about like one whose row is on screen.
  let failures = { watchlist: null, count: 0 };
  const failedOnScreen = [];

  function tellNewFailures() {
    const element = summary();
    if (!element) return;
    const count = Number(element.dataset.failed || 0);
    const more = element.dataset.watchlist === failures.watchlist ? count - failures.count : 0;
    failures = { watchlist: element.dataset.watchlist, count };
    const seen = failedOnScreen.splice(0);
    if (more <= 0) return;
    const name = element.dataset.name;
    if (more === 1 && seen.length === 1) {
      notify("A job failed", `${seen[0]} in ${name}`);
      return;
    }
    const text = more === 1 ? `A job failed in ${name}.` : `${more} jobs failed in ${name}.`;
    notify(more === 1 ? "A job failed" : "Jobs failed", text);
    if (!seen.length) announce(text);  // rows that changed on screen have announced themselves
  }

  // A row about to be replaced: say what changed.
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const old = event.detail.target;
    const incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (!old || !incoming || !old.dataset || !old.dataset.jobId) return;
    const before = old.dataset.state, after = incoming.dataset.state;
    if (before === after) return;
    const label = incoming.querySelector(".badge")?.textContent.trim() || after;
    announce(`Job ${old.dataset.jobId.slice(0, 8)} is now ${label}.`);
    if (after === "failed") failedOnScreen.push(old.dataset.jobId);
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.xhr?.status === 286) event.detail.elt.dataset.pollStopped = "true";
  });

  // The job page: say when the job's state changes. Its state line is swapped with the rest of
  // the refresh, so the words go to #announcer, which stays put.
  let jobState = null;
  function tellJobState() {
    const element = document.getElementById("job-state");
    if (!element) return;
    if (jobState && element.dataset.jobState !== jobState) {
      const label = element.querySelector(".badge")?.textContent.trim() || element.dataset.jobState;
      announce(`Job ${element.dataset.jobId.slice(0, 8)} is now ${label}.`);
    }
    jobState = element.dataset.jobState;
  }

  document.addEventListener("htmx:afterSettle", () => {
    tellJobState();
    const wasDone = document.body.dataset.done === "true";
    reflectSummary();
    reflectProblem();
    tellNewFailures();
    const done = summary()?.dataset.done === "true";
    document.body.dataset.done = String(done);
    if (done) {
      // Polling has stopped for good: nothing left to pause or to count.
      document.getElementById("pause")?.remove();
      document.getElementById("updated-ago")?.remove();
    }
    if (done && !wasDone) notify("Watchlist finished", `Every job in ${summary().dataset.name} has finished.`);
  });

  document.addEventListener("click", async (event) => {
    const pause = event.target.closest("#pause");
    if (pause) {
      window.jobsitePaused = !window.jobsitePaused;
      pause.setAttribute("aria-pressed", String(window.jobsitePaused));
      pause.textContent = window.jobsitePaused ? "Resume live updates" : "Pause live updates";
      return;
    }
    const bell = event.target.closest("#notify");
    if (bell) {
      // Asked on a click, never on page load.
      const permission = await Notification.requestPermission();
      const on = permission === "granted" && localStorage.getItem("jobsite-notify") !== "on";
      localStorage.setItem("jobsite-notify", on ? "on" : "off");
      bell.setAttribute("aria-pressed", String(on));
      bell.textContent = on ? "Notifications on" : permission === "denied" ? "Notifications blocked" : "Notify me";
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    reflectSummary();
    reflectProblem();
    tellJobState();  // the state the page opened with is no news
    tellNewFailures();  // sets the baseline: failures already there when the page opened are old news
    document.body.dataset.done = String(summary()?.dataset.done === "true");
    const bell = document.getElementById("notify");
    if (bell && "Notification" in window && Notification.permission === "granted" && localStorage.getItem("jobsite-notify") === "on") {
      bell.setAttribute("aria-pressed", "true");
      bell.textContent = "Notifications on";
    }
  });
})();

// Classroom follow mode (dashboard/follow.py): the presenter's page reports where it is and what
// it highlights; a follower's page listens on /ws/follow and goes to the same place.
// The bar under the header (#classroom-bar) says which of the two this page is. Pages may be
// swapped whole by htmx (the namespace selector), so this file may run more than once: the
// listeners are bound once, and every action reads the bar again.
(() => {
  if (window.kubariumFollow) { window.kubariumFollow.start(); return; }

  const HIGHLIGHT = "presenter-highlight";
  let highlight = "";       // the element id or object path highlighted now
  let reported = "";        // what the presenter last sent, to send only changes
  let socket = null;
  let socketFor = "";
  let retries = 0;

  const bar = () => document.getElementById("classroom-bar");
  const here = () => location.pathname + location.search;
  const presenting = () => bar()?.dataset.presenting || "";
  const following = () => bar()?.dataset.following || "";

  // A highlight names an element by id, or an object by its page's path (a link to it).
  function target(key) {
    if (!key) return null;
    if (key.startsWith("/")) {
      const link = [...document.querySelectorAll("a[href]")].find((a) => a.getAttribute("href") === key);
      return link ? (link.closest("li, tr, article") || link) : null;
    }
    return document.getElementById(key);
  }

  function paint() {
    document.querySelectorAll("." + HIGHLIGHT).forEach((el) => el.classList.remove(HIGHLIGHT));
    const el = target(highlight);
    if (el) {
      el.classList.add(HIGHLIGHT);
      document.body.dataset.highlight = highlight;
    } else {
      delete document.body.dataset.highlight;
    }
  }

  function step() {
    return document.querySelector("[data-lesson-step]")?.dataset.lessonStep || "";
  }

  // ---- presenter ----
  function report() {
    const id = presenting();
    if (!id) return;
    const state = JSON.stringify([here(), highlight, step()]);
    if (state === reported) return;
    reported = state;
    const body = new URLSearchParams({url: here(), highlight, step: step()});
    const token = document.querySelector("#classroom-bar input[name=csrfmiddlewaretoken]")?.value || "";
    fetch(bar().dataset.reportUrl, {
      method: "POST", body, credentials: "same-origin",
      headers: {"X-CSRFToken": token, "X-Requested-With": "fetch"},
    }).then((answer) => { if (!answer.ok) reported = ""; }, () => { reported = ""; });
  }

  // The key of what an Alt+click points at: an object's link, else the nearest element with an id.
  function keyOf(el) {
    const link = el.closest("a[href^='/objects/']") ||
      el.closest("li, tr, article")?.querySelector("a[href^='/objects/']");
    if (link) return link.getAttribute("href");
    const holder = el.closest("[id]");
    if (!holder || ["live", "region"].includes(holder.id) || holder === document.body) return "";
    return holder.id;
  }

  function choose(key) {
    highlight = highlight === key ? "" : key;
    paint();
    report();
  }

  // ---- follower ----
  function connect() {
    const id = following();
    if (!id || (socket && socketFor === id)) return;
    if (socket) socket.close();
    socketFor = id;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(`${scheme}${location.host}/ws/follow?id=${encodeURIComponent(id)}`);
    socket.onopen = () => { retries = 0; document.body.dataset.follow = "live"; };
    socket.onmessage = (message) => apply(JSON.parse(message.data));
    socket.onclose = (event) => {
      socket = null;
      document.body.dataset.follow = "offline";
      if (event.code === 4404) return ended();
      if (following()) setTimeout(connect, Math.min(4000, 500 * 2 ** retries++));
    };
  }

  function ended() {
    document.body.dataset.follow = "ended";
    const note = document.querySelector("#classroom-bar .classroom-ended");
    if (note) note.hidden = false;
  }

  // Go somewhere at most once per presenter change: a page that redirects elsewhere, or a
  // lesson page that shows another step, must not make the follower load pages in a loop.
  function once(state, go) {
    const key = "kubarium-follow-" + state.id;
    if (sessionStorage.getItem(key) === String(state.seq)) return false;
    sessionStorage.setItem(key, String(state.seq));
    go();
    return true;
  }

  function apply(state) {
    if (state.ended) return ended();
    if (state.url && state.url !== here() && once(state, () => location.assign(state.url))) return;
    // A lesson's page follows the lesson over its own stream; reload only if it has not
    // caught up with the presenter's step after a moment.
    if (state.step && step() && state.step !== step()) {
      setTimeout(() => {
        if (step() && state.step !== step()) once(state, () => location.reload());
      }, 1500);
    }
    highlight = state.highlight || "";
    paint();
  }

  function start() {
    paint();
    if (presenting()) report();
    if (following()) connect();
  }

  document.addEventListener("click", (event) => {
    if (!presenting() || !event.altKey) return;
    const key = keyOf(event.target);
    if (!key) return;
    event.preventDefault();
    event.stopPropagation();
    choose(key);
  }, true);
  // Other code (the lesson player) may highlight for the class: dispatch kubarium:highlight.
  document.addEventListener("kubarium:highlight", (event) => {
    if (!presenting()) return;
    highlight = String(event.detail || "");
    paint();
    report();
  });
  // htmx navigation (pushed or replaced URLs).
  for (const name of ["htmx:pushedIntoHistory", "htmx:replacedInHistory", "popstate"]) {
    (name === "popstate" ? window : document).addEventListener(name, () => { paint(); report(); });
  }
  // Live swaps may replace the highlighted element, or move a lesson to another step.
  for (const name of ["htmx:afterSettle", "htmx:oobAfterSwap", "htmx:wsAfterMessage"]) {
    document.addEventListener(name, () => { paint(); report(); });
  }

  window.kubariumFollow = {start, highlight: (key) => { highlight = key; paint(); report(); }};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// Quick exit: the button (or the Esc key) leaves for a neutral website at once.
// The page is hidden first, then the hub is asked to end the sign-in (POST /exit, whose answer
// also drops the session cookie) and only then does the page leave: a Back press or a new tab
// then finds the case signed out. The wait is bounded, so a hub that does not answer never keeps
// anyone here. location.replace() swaps the current history entry, so Back does not return to
// this page. Without JavaScript the link itself goes through the hub's GET /exit, which ends the
// sign-in and redirects to the same neutral page.
// On the credentials page (the only copy of the case number and PIN) Esc asks first: the link
// carries the translated question in data-confirm-escape.
const WAIT_MS = 1500;
const link = document.getElementById("quick-exit");
let leaving = false;

function endSession() {
  const csrf = link.dataset.csrf;
  if (!csrf) return Promise.resolve();
  const ended = fetch("/exit", {
    method: "POST",
    body: new URLSearchParams({ csrf }),
    credentials: "same-origin",
    keepalive: true,
    cache: "no-store",
  }).catch(() => undefined); // never let this stop the exit; the sign-in still ends by time
  return Promise.race([ended, new Promise((resolve) => setTimeout(resolve, WAIT_MS))]);
}

async function leave(event) {
  if (event) event.preventDefault();
  if (leaving) return;
  leaving = true;
  document.documentElement.hidden = true;
  try {
    sessionStorage.clear();
  } catch {
    // storage may be disabled; nothing is kept there anyway
  }
  await endSession();
  window.location.replace(link.dataset.neutral || link.href);
}

if (link) {
  link.addEventListener("click", leave);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.isComposing || leaving) return;
    const question = link.dataset.confirmEscape;
    if (question && !window.confirm(question)) return;
    leave(event);
  });
}

// A page shown again from the back/forward cache: if it was left by the quick exit, leave again;
// otherwise ask the hub for it afresh (every page is no-store; a case page answers with the
// sign-in page once signed out), so nothing of a case or a chosen file comes back from the cache.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  if (document.documentElement.hidden && link) {
    window.location.replace(link.dataset.neutral || link.href);
  } else {
    document.documentElement.hidden = true;
    window.location.reload();
  }
});

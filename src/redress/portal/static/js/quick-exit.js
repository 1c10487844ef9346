// Quick exit: the button (or the Esc key) replaces this page with a neutral website at once.
// location.replace() swaps the current history entry, so Back does not return to this page.
// On the way out a beacon asks the hub to end the sign-in, so the case cannot be reopened from
// this browser; the page does not wait for it. Without JavaScript the link itself goes through
// the hub's /exit, which ends the sign-in and redirects to the same neutral page.
const link = document.getElementById("quick-exit");

function endSession() {
  const csrf = link.dataset.csrf;
  if (!csrf || !navigator.sendBeacon) return;
  try {
    navigator.sendBeacon("/exit", new URLSearchParams({ csrf }));
  } catch {
    // never let this stop the exit; the sign-in still ends by time
  }
}

function leave(event) {
  if (event) event.preventDefault();
  document.documentElement.hidden = true;
  endSession();
  try {
    sessionStorage.clear();
  } catch {
    // storage may be disabled; nothing is kept there anyway
  }
  window.location.replace(link.dataset.neutral || link.href);
}

if (link) {
  link.addEventListener("click", leave);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.isComposing) leave(event);
  });
}

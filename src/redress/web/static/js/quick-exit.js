// Quick exit: the button (or the Esc key) replaces this page with a neutral website at once.
// location.replace() swaps the current history entry, so Back does not return to this page.
const link = document.getElementById("quick-exit");

function leave(event) {
  if (event) event.preventDefault();
  document.documentElement.hidden = true;
  try {
    sessionStorage.clear();
  } catch {
    // storage may be disabled; nothing is kept there anyway
  }
  window.location.replace(link.href);
}

if (link) {
  link.addEventListener("click", leave);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.isComposing) leave(event);
  });
}

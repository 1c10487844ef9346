// The "create a case" and "add files" page: choose files (picker or drag and drop), hash them on
// this device with per-file progress, show what will be sent, and put the hashes in the form.
import { Hasher, HashingError, kindOf } from "./hashing.js";

const data = JSON.parse(document.getElementById("portal-data").textContent);
const t = (key, values = {}) =>
  data.messages[key].replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));

const input = document.getElementById("files");
const dropzone = document.getElementById("dropzone");
const list = document.getElementById("file-list");
const summary = document.getElementById("summary");
const reviewText = document.getElementById("review-text");
const preview = document.getElementById("hash-preview");
const form = document.getElementById("send-form");
const payload = document.getElementById("payload");
const problem = document.getElementById("send-problem");

const hasher = new Hasher();
const entries = [];
let queue = Promise.resolve();

function addFiles(files) {
  for (const file of files) {
    const entry = { file, state: "waiting", result: null, url: null };
    entries.push(entry);
    render(entry);
    queue = queue.then(() => hashEntry(entry));
  }
  update();
}

function render(entry) {
  const item = document.createElement("li");
  const kind = kindOf(entry.file);
  let thumb;
  if (kind === "image") {
    entry.url = URL.createObjectURL(entry.file); // a local object URL: the file stays here
    thumb = document.createElement("img");
    thumb.src = entry.url;
    thumb.alt = "";
  } else {
    thumb = document.createElement("span");
    thumb.textContent = kind === "video" ? t("video") : "?";
    thumb.setAttribute("aria-hidden", "true");
  }
  thumb.className = "thumb";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = entry.file.name;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "button small";
  remove.textContent = t("remove");
  remove.setAttribute("aria-label", t("removeNamed", { name: entry.file.name }));
  remove.addEventListener("click", () => removeEntry(entry));
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.value = 0;
  progress.setAttribute("aria-label", entry.file.name);
  const state = document.createElement("p");
  state.className = "state";
  state.textContent = t("reading");
  item.append(thumb, name, remove, progress, state);
  entry.element = item;
  entry.progress = progress;
  entry.stateText = state;
  list.append(item);
}

function removeEntry(entry) {
  entry.removed = true;
  if (entry.url) URL.revokeObjectURL(entry.url);
  entry.element.remove();
  entries.splice(entries.indexOf(entry), 1);
  update();
  input.focus();
}

async function hashEntry(entry) {
  if (entry.removed) return;
  entry.state = "hashing";
  entry.stateText.textContent = t("hashing");
  try {
    entry.result = await hasher.hashFile(entry.file, (share, detail) => {
      entry.progress.value = share;
      if (detail) entry.stateText.textContent = t("hashingVideo", detail);
    });
    entry.state = "ready";
    const notes = entry.result.notes.map((code) => t(code));
    entry.stateText.textContent = [t("hashed", { count: entry.result.signals.length }), ...notes].join(" ");
  } catch (error) {
    entry.state = "failed";
    entry.progress.hidden = true;
    entry.stateText.classList.add("problem");
    entry.stateText.textContent = t(error instanceof HashingError ? error.code : "failed");
    if (!(error instanceof HashingError)) console.error(error);
  }
  entry.progress.value = 1;
  update();
}

function ready() {
  return entries.filter((entry) => entry.state === "ready");
}

function update() {
  const done = ready();
  const hashes = done.reduce((sum, entry) => sum + entry.result.signals.length, 0);
  const text = done.length ? t("summary", { files: done.length, hashes }) : "";
  summary.textContent = text;
  reviewText.textContent = text || t("nothingReady");
  preview.textContent = done
    .map((entry, i) => entry.result.signals.map((s) => `${i + 1} ${s.type}${s.variant ? ` (${s.variant})` : ""} ${s.value.split("\n")[0]}${s.type === "vpdq" ? " …" : ""}`).join("\n"))
    .join("\n\n");
}

input.addEventListener("change", () => {
  addFiles(Array.from(input.files));
  input.value = "";
});

for (const name of ["dragenter", "dragover"]) {
  dropzone.addEventListener(name, (event) => {
    event.preventDefault();
    dropzone.classList.add("over");
  });
}
for (const name of ["dragleave", "drop"]) {
  dropzone.addEventListener(name, () => dropzone.classList.remove("over"));
}
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  addFiles(Array.from(event.dataTransfer.files));
});
// A file dropped anywhere else must not make the browser open it.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());

form.addEventListener("submit", (event) => {
  problem.hidden = true;
  const busy = entries.some((entry) => entry.state === "waiting" || entry.state === "hashing");
  const done = ready();
  if (busy || done.length === 0) {
    event.preventDefault();
    problem.textContent = busy ? t("busy") : t("nothingReady");
    problem.hidden = false;
    problem.focus?.();
    return;
  }
  payload.value = JSON.stringify({ items: done.map((entry) => ({ signals: entry.result.signals })) });
  for (const entry of entries) if (entry.url) URL.revokeObjectURL(entry.url);
});

// Files chosen before this script ran (a slow connection, or the browser restoring the form).
if (input.files.length) {
  addFiles(Array.from(input.files));
  input.value = "";
}

const error = document.getElementById("form-error");
if (error) error.scrollIntoView({ block: "center" });
update();

// For the browser tests and the benchmark: the page's hasher and its state (read-only use).
window.redressPortal = { hasher, entries };

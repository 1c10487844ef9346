// The case number and PIN page: copy both, download them as a small text file, or print.
const data = JSON.parse(document.getElementById("portal-data").textContent);
const { caseNumber, pin, statusUrl } = data.credentials;
const m = data.messages;
const status = document.getElementById("copy-status");

function text() {
  return [
    m.fileHeader,
    "",
    `${m.caseNumber}: ${caseNumber}`,
    `${m.pin}: ${pin}`,
    "",
    `${m.statusPage}: ${statusUrl}`,
    "",
    m.fileWarning,
    "",
  ].join("\n");
}

document.getElementById("copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(`${m.caseNumber}: ${caseNumber}\n${m.pin}: ${pin}`);
    status.textContent = m.copied;
  } catch {
    status.textContent = m.copyFailed;
  }
});

document.getElementById("download").addEventListener("click", () => {
  const url = URL.createObjectURL(new Blob([text()], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `case-${caseNumber}.txt`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
});

document.getElementById("print").addEventListener("click", () => window.print());

// The share page's Copy button. Without JavaScript it stays hidden and the link is
// plain selectable text in a read-only field.
for (const button of document.querySelectorAll("[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector("[data-copy-status]");
  if (!field) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    field.focus();
    field.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch {
      copied = document.execCommand && document.execCommand("copy");
    }
    if (status) {
      status.textContent = copied
        ? "Copied. Paste it into your message."
        : "Could not copy automatically: the link is selected, copy it with Ctrl+C (⌘C on a Mac).";
    }
  });
}

// The clinician report's Print button. Without JavaScript the button stays hidden and
// the page says to use the browser's own Print command.
const button = document.querySelector("[data-print]");
if (button && typeof window.print === "function") {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

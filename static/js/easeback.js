// Small progressive enhancements; every page works without this file.

// Sign-up: preselect the browser's time zone when the list has it.
for (const select of document.querySelectorAll('select[data-guess-timezone]')) {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && select.value === 'UTC' && [...select.options].some((o) => o.value === zone)) {
      select.value = zone;
    }
  } catch {
    // Older browsers: the user picks from the list.
  }
}

// An htmx save that never reached us (or got an error back) says so, instead of the
// button just becoming active again. The form keeps its token, so a retry stores once.
function showSaveError(event) {
  const form = event.target.closest?.('form');
  const note = form?.querySelector('[data-save-error]');
  if (note) note.hidden = false;
}
function hideSaveError(event) {
  const note = event.target.closest?.('form')?.querySelector('[data-save-error]');
  if (note) note.hidden = true;
}
document.body.addEventListener('htmx:sendError', showSaveError);
document.body.addEventListener('htmx:responseError', showSaveError);
document.body.addEventListener('htmx:beforeRequest', hideSaveError);

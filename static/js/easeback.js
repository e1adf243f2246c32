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

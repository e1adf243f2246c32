// The installable app on the page side: registers the service worker, says when the page
// is the copy kept on the phone, keeps sessions logged offline and sends them when the
// connection returns, offers new versions (never mid-timer) and forgets everything of
// this person at log-out. Every page works without this file.

const Queue = globalThis.EasebackQueue; // offline-queue.js, a deferred classic script before us
const status = document.querySelector('[data-offline-status]');
const servedOffline = document.documentElement.hasAttribute('data-served-offline');
const owner = status?.dataset.owner ?? '';
const logForm = document.querySelector('[data-log-form]');
// What one tab sent from the queue, told to this person's other tabs (the worker's sends
// already reach every window): each shows it, refreshes its counts and, after a pause,
// leaves the plan, as the tab that sent does.
const otherTabs = 'BroadcastChannel' in window ? new BroadcastChannel('easeback-queue') : null;

if (status && Queue && 'indexedDB' in window) {
  start();
}

function start() {
  registerWorker();
  forgetOtherPeoplesPages();
  showConnection();
  window.addEventListener('offline', showConnection);
  window.addEventListener('online', () => {
    showConnection();
    send();
  });
  otherTabs?.addEventListener('message', (event) => {
    if (event.data?.type === 'queue-report' && owner && event.data.owner === owner) {
      showReport(event.data.report);
    }
  });
  // Capture phase: the offline save runs before htmx sees the submit.
  document.addEventListener('submit', onSubmit, true);
  if (logForm && servedOffline) {
    // The copy of the page holds the form token of the moment it was fetched, and a
    // reload brings that same token back: each offline session needs its own.
    setClientToken(logForm);
  }
  showQueue().then(() => {
    if (owner && navigator.onLine) send();
  });
}

// --- The service worker, updates ------------------------------------------------

let reloadWanted = false;

async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'queue-report') showReport(event.data.report);
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloadWanted) window.location.reload();
  });
  try {
    const registration = await navigator.serviceWorker.register(status.dataset.workerUrl, {
      scope: '/',
    });
    watchForUpdates(registration);
  } catch {
    // No worker (private mode, an old browser): the site works online as before.
  }
}

function watchForUpdates(registration) {
  const offer = () => {
    if (registration.waiting && navigator.serviceWorker.controller) {
      offerUpdate(registration.waiting);
    }
  };
  offer();
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer();
    });
  });
}

function timerRunning() {
  // Started and not finished (a paused timer counts: the person is mid-session).
  return Boolean(globalThis.easebackTimer?.interval);
}

let updateWorker = null;
function offerUpdate(worker) {
  const note = status.querySelector('[data-update-ready]');
  const button = note.querySelector('[data-update-reload]');
  if (!updateWorker) {
    button.addEventListener('click', () => {
      if (timerRunning()) return;
      reloadWanted = true;
      updateWorker.postMessage({ type: 'skip-waiting' });
    });
    // Shown only while no timer runs; hidden again if one starts.
    setInterval(() => {
      note.hidden = timerRunning();
      refreshStatus();
    }, 1000);
  }
  updateWorker = worker;
  note.hidden = timerRunning();
  refreshStatus();
}

// --- Offline or online ----------------------------------------------------------

function showConnection() {
  const online = navigator.onLine;
  const copy = status.querySelector('[data-offline-copy]');
  if (copy) copy.hidden = !servedOffline || online;
  status.querySelector('[data-offline-now]').hidden = servedOffline || online;
  status.querySelector('[data-online-again]').hidden = !servedOffline || !online;
  if (servedOffline && copy) {
    const day = new Date().toLocaleDateString('en-CA'); // YYYY-MM-DD
    const time = copy.querySelector('[data-updated-time]');
    if (status.dataset.updatedDay !== day) time.textContent = time.dataset.otherDay;
  }
  refreshStatus();
}

function refreshStatus() {
  status.hidden = [...status.children].every((child) => child.hidden);
}

// A page of someone signed out, or of another person, means the copy of /today/ kept
// on this phone is no longer theirs to see.
async function forgetOtherPeoplesPages() {
  if (servedOffline || !('caches' in window)) return;
  const cache = await caches.open(Queue.PAGES_CACHE);
  for (const request of await cache.keys()) {
    const copy = await cache.match(request);
    if (copy?.headers.get(Queue.OWNER_HEADER) !== owner || !owner) await cache.delete(request);
  }
}

// --- Logging a session with no connection -----------------------------------------

function onSubmit(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (form === logForm && (servedOffline || !navigator.onLine)) {
    event.preventDefault();
    event.stopImmediatePropagation();
    keepOnPhone(form);
  } else if (new URL(form.action, window.location.href).pathname === status.dataset.logoutUrl) {
    event.preventDefault();
    event.stopImmediatePropagation();
    logOut(form);
  } else if (form.method === 'post' && (servedOffline || !navigator.onLine)) {
    // Any other answer needs the server: say so, instead of the browser's error page.
    event.preventDefault();
    event.stopImmediatePropagation();
    if (new FormData(form).get('lasting') === 'yes') {
      // Pain that lasted over 2 hours is a stop signal: stop here, even offline.
      showPause();
      say('You are offline, so this answer is not recorded yet: please answer it again when you are back online.', 'warning');
    } else {
      say('You are offline: this answer needs a connection. The timer and the log form still work, and sessions you log are saved on this phone.', 'warning');
    }
  }
}

function setClientToken(form) {
  const field = form.elements.namedItem('client_token');
  if (field) field.value = crypto.randomUUID();
}

function missingAnswers(form) {
  const names = new Set();
  for (const field of form.elements) {
    if (!field.willValidate || field.checkValidity()) continue;
    const legend = field.closest('fieldset')?.querySelector('legend');
    const label = field.labels?.[0];
    names.add((legend || label)?.textContent.trim() || field.name);
  }
  return [...names];
}

async function keepOnPhone(form) {
  const missing = missingAnswers(form);
  if (missing.length) {
    say(`Not saved yet: please fill in ${missing.join(', ')}.`, 'error');
    return;
  }
  const data = new FormData(form);
  const exercise = form.elements.namedItem('exercise');
  const item = {
    token: String(data.get('client_token') || crypto.randomUUID()),
    owner,
    csrf: csrfToken(),
    savedAt: new Date().toISOString(),
    fields: [...data.entries()]
      .filter(([name]) => name !== 'csrfmiddlewaretoken')
      .map(([name, value]) => [name, String(value)]),
    summary: {
      name: exercise?.selectedOptions?.[0]?.textContent.trim() || 'Session',
      before: String(data.get('pain_before')),
      after: String(data.get('pain_after')),
      time: new Date().toTimeString().slice(0, 5),
    },
    stopSignal: data.getAll('stop_signals').length > 0 || data.has('lasting_pain'),
  };
  try {
    await Queue.put(item);
  } catch {
    say('This phone could not keep the session (its storage may be full or blocked). Please note it down and log it later.', 'error');
    return;
  }
  form.reset();
  setClientToken(form);
  const { name, before, after } = item.summary;
  say(`Saved on this phone, will send when online: ${name}, pain ${before} → ${after}.`);
  if (item.stopSignal) showPause();
  await showQueue();
  askForBackgroundSync();
  if (navigator.onLine) send();
}

async function askForBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register(Queue.SYNC_TAG);
  } catch {
    // No Background Sync here: the online event and the next page load send instead.
  }
}

function csrfToken() {
  try {
    const headers = JSON.parse(document.body.getAttribute('hx-headers') || '{}');
    if (headers['X-CSRFToken']) return headers['X-CSRFToken'];
  } catch {
    // fall through to a form's token
  }
  return document.querySelector('input[name="csrfmiddlewaretoken"]')?.value || '';
}

// --- Sending -------------------------------------------------------------------------

let sending = null;
function send() {
  if (!owner) return Promise.resolve();
  sending ??= Queue.flush({ url: status.dataset.sendUrl, owner, csrfToken: csrfToken() })
    .then((report) => {
      if (report.sent.length || report.refused.length) {
        otherTabs?.postMessage({ type: 'queue-report', owner, report });
      }
      return showReport(report);
    })
    .catch(() => {})
    .finally(() => {
      sending = null;
    });
  return sending;
}

async function showReport(report) {
  await showQueue();
  const parts = [];
  const sent = report.sent.length;
  if (sent) {
    parts.push(`Sent: ${plural(sent, 'session')} saved on this phone ${sent === 1 ? 'is' : 'are'} now in your account.`);
  }
  for (const { summary, answer } of report.refused) {
    parts.push(`Not sent: the session saved at ${summary.time} (${summary.name}) was not accepted. ${answer.message || ''}`);
  }
  if (report.signedOut) parts.push('Log in again to send the sessions saved on this phone.');
  if (!parts.length) return;
  if (report.next) {
    // A block or a stop-signal pause started while the phone was offline (the session
    // is stored, and the plan is closed until the person has read why), or the pain
    // scores call for guidance: the page that says so, once, and not mid-timer.
    const paused = report.sent.some(({ answer }) => answer.paused);
    if (paused && 'caches' in window) await caches.delete(Queue.PAGES_CACHE);
    const why = paused ? 'Your programme is paused: see what to do next.' : 'Please read the note about your pain.';
    say(`${parts.join(' ')} ${why}`, 'warning', report.next);
    if (!timerRunning() && !leaving) {
      leaving = true;
      window.location.assign(report.next);
    }
    return;
  }
  say(parts.join(' '), report.refused.length ? 'error' : 'ok');
  if (sent && globalThis.htmx && document.querySelector('#done-today')) {
    globalThis.htmx.trigger(document.body, 'session-logged');
  }
}

let leaving = false;

function plural(count, word) {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

// --- What the person sees about the queue -----------------------------------------------

function queueRegion() {
  let region = document.querySelector('[data-offline-queue]');
  if (region) return region;
  region = document.createElement('div');
  region.className = 'offline-queue';
  region.dataset.offlineQueue = '';
  region.innerHTML =
    '<p class="message" role="status" aria-live="polite" data-queue-message hidden></p>' +
    '<div data-queue-pending hidden><p class="small"><strong data-queue-count></strong> waiting on this phone:</p><ul class="small" data-queue-list></ul></div>';
  const host = document.querySelector('#log-form');
  if (host) host.querySelector('h2')?.after(region);
  else status.after(region);
  return region;
}

function say(text, kind = 'ok', link = null) {
  const message = queueRegion().querySelector('[data-queue-message]');
  message.className = `message message-${kind}`;
  message.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  message.textContent = text;
  if (link) {
    const anchor = document.createElement('a');
    anchor.href = link;
    anchor.textContent = 'Go there now';
    message.append(' ', anchor);
  }
  message.hidden = false;
}

async function showQueue() {
  let items = [];
  try {
    items = owner ? await Queue.list(owner) : [];
  } catch {
    return;
  }
  if (!items.length && !document.querySelector('[data-offline-queue]')) return;
  const region = queueRegion();
  const pending = region.querySelector('[data-queue-pending]');
  pending.hidden = items.length === 0;
  region.querySelector('[data-queue-count]').textContent = plural(items.length, 'session');
  const list = region.querySelector('[data-queue-list]');
  list.replaceChildren(
    ...items.map(({ summary }) => {
      const row = document.createElement('li');
      row.textContent = `${summary.time} · ${summary.name} · pain ${summary.before} → ${summary.after} · not sent yet`;
      return row;
    }),
  );
  if (items.some((item) => item.stopSignal)) showPause();
}

function showPause() {
  // Until the server has it, the phone itself stops offering the timer.
  document.documentElement.dataset.offlinePaused = '';
  const note = document.querySelector('[data-offline-pause]');
  if (note) return;
  const pause = document.createElement('p');
  pause.className = 'message message-warning';
  pause.dataset.offlinePause = '';
  pause.setAttribute('role', 'alert');
  pause.textContent =
    'You reported a stop signal: please stop stretching for now. The programme is paused; ' +
    'when this phone is back online, EaseBack will show you what to do next.';
  queueRegion().prepend(pause);
}

// --- Log-out on a shared phone ---------------------------------------------------------

async function logOut(form) {
  if (navigator.onLine) {
    await Promise.race([send(), new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
  let waiting = [];
  try {
    waiting = await Queue.list(owner);
  } catch {
    // Unreadable storage: nothing to warn about; it is cleared below all the same.
  }
  if (
    waiting.length &&
    !window.confirm(
      `${plural(waiting.length, 'session')} saved on this phone ${waiting.length === 1 ? 'has' : 'have'} not been sent yet. ` +
        'Logging out deletes them from this phone. Log out anyway?',
    )
  ) {
    return;
  }
  await Promise.allSettled([Queue.clear(), 'caches' in window && caches.delete(Queue.PAGES_CACHE)]);
  form.submit(); // no submit event: straight to the server, which also sends Clear-Site-Data
}

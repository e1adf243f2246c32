// Sessions logged with no connection, kept on the phone (IndexedDB) until they are sent.
// Shared by the pages (offline.js) and the service worker (importScripts), so it is a
// classic script that puts one object on the global scope instead of an ES module.
// Each session keeps its client token: the server stores one row per token, so a
// session sent twice (a retry, two tabs, the worker and a page) is stored once.
(function (scope) {
  'use strict';

  const DB_NAME = 'easeback-offline';
  const STORE = 'sessions';
  const LOCK = 'easeback-send-sessions';

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = scope.indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'token' });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function withStore(mode, work) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const result = work(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  const put = (item) => withStore('readwrite', (store) => store.put(item));
  const remove = (token) => withStore('readwrite', (store) => store.delete(token));
  const clear = () => withStore('readwrite', (store) => store.clear());

  async function list(owner) {
    const items = (await withStore('readonly', (store) => store.getAll())) || [];
    const mine = owner === undefined ? items : items.filter((item) => item.owner === owner);
    return mine.sort((a, b) => a.savedAt.localeCompare(b.savedAt));
  }

  async function sendOne(url, item, csrfToken) {
    const body = new FormData();
    for (const [name, value] of item.fields) body.append(name, value);
    body.set('performed_at', item.savedAt);
    body.set('offline_owner', item.owner);
    body.set('csrfmiddlewaretoken', csrfToken);
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        body,
        credentials: 'same-origin',
        headers: { 'X-CSRFToken': csrfToken, Accept: 'application/json' },
      });
    } catch {
      return { outcome: 'offline' };
    }
    let answer = {};
    if ((response.headers.get('Content-Type') || '').includes('application/json')) {
      answer = await response.json().catch(() => ({}));
    }
    if (response.ok) return { outcome: 'sent', answer };
    if (response.status === 400 && answer.status === 'invalid') return { outcome: 'refused', answer };
    if (response.status === 401) return { outcome: 'signed-out', answer };
    // 403: another person's session, or a form token from before a new log-in (a page
    // loaded now carries a fresh one). Kept, not retried by the worker.
    if (response.status === 403) return { outcome: 'kept', answer };
    return { outcome: 'offline', answer };
  }

  // Send every queued session (only ``owner``'s when given), one sender at a time across
  // tabs and the worker. Sent and refused sessions leave the queue; the rest stay.
  async function flush({ url, owner, csrfToken }) {
    const run = async () => {
      const report = { sent: [], refused: [], kept: 0, retry: false, signedOut: false, next: null };
      for (const item of await list(owner)) {
        const { outcome, answer } = await sendOne(url, item, csrfToken || item.csrf);
        if (outcome === 'sent' || outcome === 'refused') {
          await remove(item.token);
          report[outcome].push({ summary: item.summary, answer });
          if (answer.next && (answer.paused || !report.next)) report.next = answer.next;
          continue;
        }
        if (outcome === 'signed-out') report.signedOut = true;
        if (outcome === 'offline') {
          report.retry = true;
          break;
        }
      }
      report.kept = (await list(owner)).length;
      return report;
    };
    const locks = scope.navigator && scope.navigator.locks;
    return locks ? locks.request(LOCK, run) : run();
  }

  scope.EasebackQueue = {
    PAGES_CACHE: 'easeback-pages',
    SYNC_TAG: 'easeback-send-sessions',
    OWNER_HEADER: 'X-EaseBack-Owner',
    put,
    list,
    clear,
    flush,
  };
})(self);

// EaseBack service worker, served from /sw.js by pwa.views.service_worker.
// What it keeps: our static files (by their hashed names, one cache per version) and
// the last copy of /today/ fetched by the person signed in. Nothing else: every other
// page, every htmx fragment, every export and report always comes from the server.
'use strict';

const CONFIG = {{ config|safe }};
{% verbatim %}
importScripts(CONFIG.queueScript);

// Reminders: the push and notificationclick handlers (static/js/sw-push.js).
importScripts(CONFIG.pushScript);

const Queue = self.EasebackQueue;
const STATIC_PREFIX = 'easeback-static-';
const STATIC_CACHE = STATIC_PREFIX + CONFIG.version;
const PAGES_CACHE = Queue.PAGES_CACHE;
const OWNER = Queue.OWNER_HEADER;
const CACHED_AT = 'X-EaseBack-Cached-At';
// Marks the worker's own fetch of /today/: the page leaves any message waiting for the
// person ("Thanks: your score is...") to the page they open next.
const COPY_REQUEST = 'X-EaseBack-Copy';
// A weak signal can leave a request hanging: after this long the copy on the phone is
// shown, and the fresh page still replaces the copy when it arrives.
const NETWORK_TIMEOUT_MS = 6000;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(STATIC_CACHE);
      await cache.addAll(CONFIG.precache);
      // The first worker takes over at once; a new version waits until the person
      // taps "Reload to update", which the page never offers in the middle of a timer.
      if (!self.registration.active) await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      const old = names.filter((name) => name.startsWith(STATIC_PREFIX) && name !== STATIC_CACHE);
      await Promise.all(old.map((name) => caches.delete(name)));
      // The copy of /today/ points at the old version's files, which are gone now.
      if (old.length) await caches.delete(PAGES_CACHE);
      await self.clients.claim();
      // Keep today's page from the first visit on (a redirect, when signed out or
      // when the plan is blocked, keeps nothing).
      await refreshToday().catch(() => {});
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(CONFIG.staticUrl)) {
    event.respondWith(staticFile(request));
  } else if (request.mode === 'navigate' && url.pathname === CONFIG.todayUrl && !url.search) {
    event.respondWith(todayPage(event));
  } else if (request.mode === 'navigate') {
    event.respondWith(fetch(request).catch(offlinePage));
  }
});

self.addEventListener('message', (event) => {
  const message = event.data || {};
  if (message.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('sync', (event) => {
  if (event.tag === Queue.SYNC_TAG) event.waitUntil(sendQueued());
});

// Static files never change under one name: the cache answers, the network fills it.
async function staticFile(request) {
  const cache = await caches.open(STATIC_CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
  return response;
}

async function todayPage(event) {
  const network = fetch(event.request).then((response) => {
    event.waitUntil(remember(response.clone()).catch(() => {}));
    return response;
  });
  event.waitUntil(network.catch(() => {}));
  try {
    return await Promise.race([network, timeout(NETWORK_TIMEOUT_MS)]);
  } catch {
    const copy = await copyOfToday();
    if (copy) return copy;
    return network.catch(offlinePage);
  }
}

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), ms));
}

async function refreshToday() {
  const response = await fetch(CONFIG.todayUrl, {
    credentials: 'same-origin',
    redirect: 'manual',
    headers: { [COPY_REQUEST]: '1' },
  });
  await remember(response);
}

// Keep the page only when it is the signed-in person's plan itself; anything else
// (signed out, plan blocked by the screening or a stop signal) drops the old copy.
async function remember(response) {
  const html = (response.headers.get('Content-Type') || '').includes('text/html');
  if (response.status >= 500) return;
  if (response.status !== 200 || response.redirected || response.type !== 'basic' || !html) {
    await caches.delete(PAGES_CACHE);
    return;
  }
  const text = await response.text();
  const owner = /data-owner="([0-9a-f]+)"/.exec(text);
  if (!owner) {
    await caches.delete(PAGES_CACHE);
    return;
  }
  const headers = new Headers(response.headers);
  headers.set(OWNER, owner[1]);
  headers.set(CACHED_AT, String(Date.now()));
  const cache = await caches.open(PAGES_CACHE);
  await cache.put(CONFIG.todayUrl, new Response(text, { status: 200, headers }));
}

async function copyOfToday() {
  const cache = await caches.open(PAGES_CACHE);
  const copy = await cache.match(CONFIG.todayUrl);
  if (!copy) return null;
  if (Date.now() - Number(copy.headers.get(CACHED_AT) || 0) > CONFIG.pageMaxAgeMs) {
    await cache.delete(CONFIG.todayUrl);
    return null;
  }
  // Marked, so the page says it is the copy from the time it was fetched.
  const text = (await copy.text()).replace(/<html\b/, '<html data-served-offline');
  return new Response(text, { status: 200, headers: copy.headers });
}

async function offlinePage() {
  const cache = await caches.open(STATIC_CACHE);
  const page = await cache.match(CONFIG.offlineUrl);
  return (
    page ||
    new Response('You are offline.', { status: 503, headers: { 'Content-Type': 'text/plain' } })
  );
}

// Background Sync: the browser wakes the worker when the connection is back, even with
// no EaseBack tab open. Each session goes with the form token of the page it was
// logged on; one the server turns away for a stale token waits for the next page load.
async function sendQueued() {
  const report = await Queue.flush({ url: CONFIG.sendUrl });
  if (report.sent.some(({ answer }) => answer.paused)) await caches.delete(PAGES_CACHE);
  if (report.sent.length || report.refused.length) {
    const windows = await self.clients.matchAll({ type: 'window' });
    for (const client of windows) client.postMessage({ type: 'queue-report', report });
  }
  if (report.retry) throw new Error('EaseBack could not be reached; the browser tries again later.');
}
{% endverbatim %}

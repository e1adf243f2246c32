// Turn on reminder notifications for this device (Web Push). The page works without it:
// the button only appears where the browser can subscribe.

const controls = document.getElementById('push-controls');

function applicationServerKey(base64url) {
  const padded = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function deviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const system = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : 'a device';
  return `${browser} on ${system}`;
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute('hx-headers') || '{}')['X-CSRFToken'] || '';
  } catch {
    return '';
  }
}

async function subscribe(status) {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    status.textContent = 'Notifications are blocked for this site. You can allow them in your browser settings.';
    return;
  }
  status.textContent = 'Turning on…';
  const registration = await navigator.serviceWorker.register(controls.dataset.worker, { scope: '/' });
  await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: applicationServerKey(controls.dataset.publicKey),
  });
  const response = await fetch(controls.dataset.subscribeUrl, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
    body: JSON.stringify({ ...subscription.toJSON(), device: deviceName() }),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  status.textContent = 'Notifications are on for this device.';
  window.location.reload();
}

if (controls && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window) {
  controls.hidden = false;
  document.getElementById('push-needs-js')?.setAttribute('hidden', '');
  const status = document.getElementById('push-status');
  document.getElementById('push-subscribe').addEventListener('click', () => {
    subscribe(status).catch(() => {
      status.textContent = 'This device could not be set up for notifications. Please try again later.';
    });
  });
}

/* Reminder notifications inside the service worker: a classic script for importScripts().
   The payload carries only a title, a short text, a link on our own site and a tag. */

const EASEBACK_REMINDER_DEFAULTS = {
  title: 'Back stretches',
  body: "Time for your stretches: today's plan is ready.",
  url: '/today/',
  tag: 'easeback-reminder',
};

// Only a path on this site is ever opened, whatever the payload says.
function easebackSameOriginUrl(url) {
  try {
    const target = new URL(url || '/today/', self.location.origin);
    if (target.origin === self.location.origin) return target.href;
  } catch (error) {
    // fall through to the default
  }
  return new URL('/today/', self.location.origin).href;
}

function easebackReminderFromPush(event) {
  let sent = {};
  try {
    sent = event.data ? event.data.json() : {};
  } catch (error) {
    sent = {};
  }
  const reminder = { ...EASEBACK_REMINDER_DEFAULTS, ...sent };
  return {
    title: String(reminder.title),
    options: {
      body: String(reminder.body),
      tag: String(reminder.tag),
      icon: '/static/img/icon.svg',
      data: { url: easebackSameOriginUrl(reminder.url) },
    },
  };
}

async function easebackOpenReminder(notification) {
  const url = (notification.data && notification.data.url) || easebackSameOriginUrl('/today/');
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const client of windows) {
    if (new URL(client.url).origin !== self.location.origin) continue;
    const opened = client.url === url ? client : await client.navigate(url);
    if (opened) {
      try {
        return await opened.focus();
      } catch (error) {
        return opened; // focusing needs a click the browser can see; the page is there
      }
    }
  }
  return self.clients.openWindow(url);
}

self.addEventListener('push', (event) => {
  const reminder = easebackReminderFromPush(event);
  event.waitUntil(self.registration.showNotification(reminder.title, reminder.options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(easebackOpenReminder(event.notification));
});

import { Notification } from 'electron';
import type { NotificationText } from './notifications';

// A notification that is garbage-collected stops delivering clicks, so each is kept until it is
// clicked or closed; some desktops never report a close, hence the bound.
const live = new Set<Notification>();
const KEPT = 50;

/** Shows one native notification; clicking it runs `onClick`. */
export function showNotification(text: NotificationText, onClick: () => void): void {
  if (!Notification.isSupported()) return;
  const notification = new Notification({ title: text.title, body: text.body, silent: text.silent === true });
  live.add(notification);
  if (live.size > KEPT) live.delete(live.values().next().value as Notification);
  const done = (): void => {
    live.delete(notification);
  };
  notification.on('click', () => {
    done();
    onClick();
  });
  notification.on('close', done);
  notification.show();
}

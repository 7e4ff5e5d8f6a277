import { app, BrowserWindow, type WebContents } from 'electron';
import { appUrl } from './trust';
import { EVENT_CHANNEL, type EngineEvent } from '../../shared/methods';

export interface MainWindowOptions {
  preload: string;
  /** Where the UI is loaded from: app://portent/index.html, or the dev server while developing. */
  entry: string;
}

/**
 * The one window, created when first asked for. Closing it only hides it: Portent keeps
 * running in the tray until the user quits.
 */
export class MainWindow {
  private window: BrowserWindow | undefined;
  private quitting = false;

  constructor(private readonly options: MainWindowOptions) {}

  /** Shows the window, on a route such as `/incidents/12` when one is given. */
  show(route?: string): void {
    const existing = this.window;
    if (existing) {
      if (route) void existing.loadURL(appUrl(this.options.entry, route));
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      // A menu-bar app is never the active app on macOS until it asks to be.
      if (process.platform === 'darwin') app.focus({ steal: true });
      return;
    }
    const window = new BrowserWindow({
      width: 1100,
      height: 760,
      show: false,
      title: 'Portent',
      webPreferences: {
        preload: this.options.preload,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
      },
    });
    this.window = window;
    window.once('ready-to-show', () => window.show());
    window.on('close', (event) => {
      if (this.quitting) return;
      event.preventDefault();
      window.hide();
    });
    window.on('closed', () => (this.window = undefined));
    void window.loadURL(appUrl(this.options.entry, route));
  }

  /** Pushes an engine event to the window, when there is one (nothing is queued while it is closed). */
  send(event: EngineEvent): void {
    const w = this.window;
    if (w && !w.isDestroyed()) w.webContents.send(EVENT_CHANNEL, event);
  }

  /** True for the web contents of Portent's window (and no other). */
  owns(contents: WebContents): boolean {
    return this.window !== undefined && !this.window.isDestroyed() && this.window.webContents === contents;
  }

  /** Lets the window really close, once the app is quitting. */
  allowClose(): void {
    this.quitting = true;
  }
}

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { Monitor } from '../engine/monitor';
import { createLogger } from '../engine/log';
import { defaultDatabasePath } from '../engine/paths';
import { createEngineApi } from '../engine/api';
import { registerIpcHandlers } from './ipc';

// The desktop shell stays thin: it starts the same engine the headless CLI runs and shows it.
// Tray, notifications, the app:// protocol and packaging hardening come with the desktop issue.

const here = path.dirname(fileURLToPath(import.meta.url));
const log = createLogger((line) => process.stderr.write(line + '\n'));

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  const monitor = new Monitor({
    dbPath: defaultDatabasePath(),
    migrationsDir: app.isPackaged ? path.join(process.resourcesPath, 'migrations') : undefined,
    log,
  });
  let window: BrowserWindow | undefined;

  const isTrustedSender = (event: IpcMainInvokeEvent): boolean =>
    window !== undefined && event.sender === window.webContents && event.senderFrame === window.webContents.mainFrame;

  const showWindow = (): void => {
    if (window) {
      window.show();
      window.focus();
      return;
    }
    window = new BrowserWindow({
      width: 1100,
      height: 760,
      show: false,
      title: 'Portent',
      webPreferences: {
        preload: path.join(here, '../preload/index.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
      },
    });
    window.once('ready-to-show', () => window?.show());
    window.on('closed', () => (window = undefined));
    window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    window.webContents.on('will-navigate', (event) => event.preventDefault());
    const devUrl = process.env.ELECTRON_RENDERER_URL;
    if (!app.isPackaged && devUrl) void window.loadURL(devUrl);
    else void window.loadFile(path.join(here, '../renderer/index.html'));
  };

  app.on('second-instance', showWindow);
  app.whenReady().then(() => {
    monitor.start();
    registerIpcHandlers(createEngineApi(monitor), isTrustedSender);
    showWindow();
  }, (err: unknown) => log.error('startup failed', { error: String(err) }));
  // Quitting waits for the engine: a round in progress finishes its transaction first.
  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    monitor.stop().then(
      () => {
        stopped = true;
        app.quit();
      },
      (err: unknown) => {
        log.error('engine did not stop cleanly', { error: String(err) });
        app.exit(1);
      },
    );
  });
}

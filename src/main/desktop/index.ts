import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, session, shell } from 'electron';
import { EngineClient } from '../engine/host/engineClient';
import { startMetricsIfEnabled } from '../engine/metricsServer';
import { subscribeEngineEvents } from '../engine/monitorEvents';
import { createLogger } from '../engine/log';
import { RotatingFile } from '../engine/logFile';
import { defaultDatabasePath } from '../engine/paths';
import { registerIpcHandlers } from './ipc';
import { utilityLauncher } from './utilityLauncher';
import { registerAppScheme, serveApp } from './appProtocol';
import { guardWebContents, hardenSession } from './security';
import { MainWindow } from './window';
import { ElectronTrayView } from './tray';
import { TrayController } from './trayController';
import { IncidentAlerts } from './alerts';
import { showNotification } from './notify';
import { withDesktopActions } from './reveal';
import { createAutostart, launchCommand, launchedHidden } from './autostart';
import { APP_ENTRY, incidentRoute, isTrustedSenderFacts, reportRoute } from './trust';

// The composition root of the desktop shell: it starts the engine the headless CLI also runs,
// and wires the tray, window, notifications and IPC to it. Decisions live in the modules.

const here = path.dirname(fileURLToPath(import.meta.url));
const devOrigin = !app.isPackaged && process.env.ELECTRON_RENDERER_URL ? process.env.ELECTRON_RENDERER_URL : null;

registerAppScheme();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  const dbPath = defaultDatabasePath();
  // An app started from the Dock, a launcher or at login has no terminal: the file is its log.
  // Not the headless service's file, which may be written by another process at the same time.
  const logFile = new RotatingFile(path.join(path.dirname(dbPath), 'logs', 'desktop.log'));
  const writeLine = (line: string): void => {
    process.stderr.write(line + '\n');
    logFile.write(line);
  };
  const log = createLogger(writeLine);
  const migrationsDir = app.isPackaged ? path.join(process.resourcesPath, 'migrations') : undefined;
  // The engine runs in its own thread: this one draws the tray and answers IPC, and never waits
  // on SQLite (see engine/host/engineClient.ts).
  let engine: EngineClient | null = null;
  const window = new MainWindow({ preload: path.join(here, '../preload/index.cjs'), entry: devOrigin ?? APP_ENTRY });
  const autostart = createAutostart({
    platform: process.platform,
    env: process.env,
    home: app.getPath('home'),
    command: launchCommand(process.env, process.execPath, app.isPackaged ? null : app.getAppPath()),
    loginItems: { get: () => app.getLoginItemSettings().openAtLogin, set: (openAtLogin) => app.setLoginItemSettings({ openAtLogin }) },
  });

  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, devOrigin));
  // A second launch shows the window, unless it is a login start finding Portent already running.
  app.on('second-instance', (_event, argv) => {
    if (!launchedHidden(argv)) window.show();
  });
  app.on('activate', () => window.show());
  // Without this listener Electron quits when the last window closes; Portent stays in the tray.
  app.on('window-all-closed', () => {});

  app.whenReady().then(async () => {
    hardenSession(session.defaultSession);
    serveApp(path.join(here, '../renderer'));
    try {
      engine = await EngineClient.start({
        dbPath,
        migrationsDir,
        logLine: writeLine,
        // Capture runs in an Electron utility process, which only this thread can start. It
        // holds no privilege: it opens captures through the installed capture helper
        // (captureHelper.ts), found by the engine; captureErrors.ts says how to install it.
        captureLauncher: utilityLauncher,
      });
    } catch (err) {
      // A damaged or newer database, or another monitor already on it: say so, never sit in
      // the tray doing nothing.
      const message = err instanceof Error ? err.message : String(err);
      log.error('engine could not start', { error: message });
      dialog.showErrorBox('Portent could not start', message);
      app.exit(1);
      return;
    }
    const running = engine;
    running.once('failed', (err) => {
      log.error('the engine stopped unexpectedly', { error: err.message });
      dialog.showErrorBox('Portent stopped', `Portent's engine stopped unexpectedly (${err.message}). Start Portent again; its log is ${path.join(path.dirname(dbPath), 'logs', 'desktop.log')}.`);
      app.exit(1);
    });
    // "Show the executable" opens the file manager, which only this shell can do.
    const api = withDesktopActions(running.handlers, { exists: (p) => fs.existsSync(p), showItemInFolder: (p) => shell.showItemInFolder(p) });
    // Prometheus metrics, when the metrics.enabled setting asks for them (docs/fleet.md).
    const metrics = await startMetricsIfEnabled({ settings: (await api.getSettings()).values, dbPath, read: () => running.metrics(), log });
    app.on('will-quit', () => void metrics?.close());
    registerIpcHandlers(api, (event) =>
      isTrustedSenderFacts({ frameUrl: event.senderFrame?.url ?? null, isMainFrame: event.senderFrame?.parent === null, fromPortentWindow: window.owns(event.sender) }, devOrigin),
    );

    const iconDir = app.isPackaged ? path.join(process.resourcesPath, 'tray') : path.join(app.getAppPath(), 'assets', 'tray');
    const tray: TrayController = new TrayController({
      api,
      view: new ElectronTrayView(iconDir, (action) => void tray.run(action)),
      autostart,
      openWindow: () => window.show(),
      quit: () => app.quit(),
      log,
    });
    const alerts = new IncidentAlerts({ api, show: showNotification, openIncident: (id) => window.show(incidentRoute(id)), openReport: (day) => window.show(reportRoute(day)), log });
    running.on('changed', () => void tray.refresh());
    running.on('incidents', (incidents) => void alerts.announce(incidents));
    running.on('report', (notice) => void alerts.announceReport(notice));
    // The window is told what changed, instead of polling for it.
    subscribeEngineEvents(running, (event) => window.send(event));
    void tray.refresh();
    log.info('tray ready', { platform: process.platform });

    const openedAtLogin = process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin;
    if (!launchedHidden(process.argv, openedAtLogin)) window.show();
  }, (err: unknown) => log.error('startup failed', { error: String(err) }));

  // Quitting waits for the engine: a round in progress finishes its transaction first.
  let stopped = false;
  app.on('before-quit', (event) => {
    window.allowClose();
    if (stopped) return;
    event.preventDefault();
    (engine?.stop() ?? Promise.resolve()).then(
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

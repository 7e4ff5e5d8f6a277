import type { Handlers } from '../../shared/contract';
import type { Logger } from '../engine/log';
import type { Autostart } from './autostart';
import { snoozeEnd, trayMenu, type DetectProgress, type MenuItemModel, type TrayAction } from './trayMenu';
import { trayStateOf, type TrayState } from './trayState';

/** What draws the tray: the Electron Tray in the app, a recorder in tests. */
export interface TrayView {
  render(state: TrayState, menu: MenuItemModel[]): void;
}

export interface TrayControllerDeps {
  api: Pick<Handlers, 'getStatus' | 'detectNow' | 'setPaused' | 'snoozeAlerts'>;
  view: TrayView;
  autostart: Autostart;
  openWindow(): void;
  quit(): void;
  log: Logger;
  now?: () => number;
}

/**
 * Keeps the tray in step with the engine and runs its menu's actions through the same engine
 * API the window uses. It holds only what the engine does not know: the outcome of the
 * detection the tray itself started.
 */
export class TrayController {
  private detect: DetectProgress = { phase: 'idle' };
  private generation = 0;
  private readonly now: () => number;

  constructor(private readonly deps: TrayControllerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Redraws from a fresh status; when calls overlap, only the latest one draws. */
  async refresh(): Promise<void> {
    const generation = ++this.generation;
    try {
      const status = await this.deps.api.getStatus();
      if (generation !== this.generation) return;
      const now = this.now();
      const state = trayStateOf(status, now);
      const startAtLogin = this.deps.autostart.supported ? this.deps.autostart.isEnabled() : null;
      this.deps.view.render(state, trayMenu({ status, tray: state, detect: this.detect, startAtLogin, now }));
    } catch (err) {
      this.deps.log.warn('tray could not read the status', { error: String(err) });
    }
  }

  async run(action: TrayAction): Promise<void> {
    const { api, log } = this.deps;
    try {
      switch (action) {
        case 'open':
          this.deps.openWindow();
          return;
        case 'quit':
          this.deps.quit();
          return;
        case 'detect':
          await this.detectNow();
          return;
        case 'pause':
        case 'resume':
          await api.setPaused(action === 'pause');
          break;
        case 'snooze-hour':
        case 'snooze-tomorrow':
          await api.snoozeAlerts(snoozeEnd(action === 'snooze-hour' ? 'hour' : 'tomorrow', this.now()));
          break;
        case 'snooze-end':
          await api.snoozeAlerts(null);
          break;
        case 'start-at-login':
          this.deps.autostart.setEnabled(!this.deps.autostart.isEnabled());
          break;
      }
    } catch (err) {
      log.error('tray action failed', { action, error: String(err) });
    }
    await this.refresh();
  }

  private async detectNow(): Promise<void> {
    if (this.detect.phase === 'running') return;
    this.detect = { phase: 'running' };
    await this.refresh();
    try {
      const result = await this.deps.api.detectNow();
      this.detect = { phase: 'done', at: this.now(), result };
    } catch (err) {
      this.detect = { phase: 'failed', at: this.now(), error: err instanceof Error ? err.message : String(err) };
    }
    await this.refresh();
  }
}

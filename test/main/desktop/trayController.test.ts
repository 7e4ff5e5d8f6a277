import { describe, expect, it } from 'vitest';
import type { Autostart } from '../../../src/main/desktop/autostart';
import { TrayController } from '../../../src/main/desktop/trayController';
import type { MenuItemModel } from '../../../src/main/desktop/trayMenu';
import type { TrayState } from '../../../src/main/desktop/trayState';
import { silentLogger } from '../../../src/main/engine/log';
import type { DetectNowResult, Status } from '../../../src/shared/contract';
import { statusWith } from './support/status';

const now = new Date(2026, 2, 10, 14, 5).getTime();

/** An engine API over a status held in memory, recording what the tray asked of it. */
function fakeEngine() {
  let status = statusWith();
  const calls: string[] = [];
  let finishDetection: (r: DetectNowResult) => void = () => {};
  const api = {
    getStatus: (): Status => status,
    setPaused: (paused: boolean): Status => {
      calls.push(`setPaused(${paused})`);
      status = { ...status, paused };
      return status;
    },
    snoozeAlerts: (until: number | null): Status => {
      calls.push(`snoozeAlerts(${until})`);
      status = { ...status, snoozedUntil: until };
      return status;
    },
    detectNow: (): Promise<DetectNowResult> => {
      calls.push('detectNow');
      return new Promise((resolve) => (finishDetection = resolve));
    },
  };
  return { api, calls, finish: (r: DetectNowResult) => finishDetection(r) };
}

function recordingView() {
  const frames: { state: TrayState; menu: MenuItemModel[] }[] = [];
  const labels = (): string[] => {
    const menu = frames.at(-1)?.menu ?? [];
    return menu.flatMap((i) => (i.type === 'separator' ? [] : [i.label]));
  };
  return { view: { render: (state: TrayState, menu: MenuItemModel[]) => frames.push({ state, menu }) }, frames, labels };
}

function memoryAutostart(): Autostart & { on: boolean } {
  const a = { on: false, supported: true, isEnabled: () => a.on, setEnabled: (on: boolean) => (a.on = on) };
  return a;
}

function setup() {
  const engine = fakeEngine();
  const view = recordingView();
  const autostart = memoryAutostart();
  const opened: string[] = [];
  const tray = new TrayController({ api: engine.api, view: view.view, autostart, openWindow: () => opened.push('window'), quit: () => opened.push('quit'), log: silentLogger, now: () => now });
  return { engine, view, autostart, opened, tray };
}

describe('TrayController', () => {
  it('draws the state and menu from the engine’s status', async () => {
    const { view, tray } = setup();
    await tray.refresh();
    expect(view.frames.at(-1)?.state.kind).toBe('normal');
    expect(view.labels()).toContain('Pause monitoring');
  });

  it('pauses, resumes and snoozes through the engine API, then redraws', async () => {
    const { engine, view, tray } = setup();
    await tray.run('pause');
    expect(view.frames.at(-1)?.state.kind).toBe('paused');
    expect(view.labels()).toContain('Resume monitoring');
    await tray.run('resume');
    await tray.run('snooze-hour');
    await tray.run('snooze-end');
    expect(engine.calls).toEqual(['setPaused(true)', 'setPaused(false)', `snoozeAlerts(${now + 3_600_000})`, 'snoozeAlerts(null)']);
  });

  it('shows detection progress, then the result', async () => {
    const { engine, view, tray } = setup();
    const run = tray.run('detect');
    await Promise.resolve();
    expect(view.labels()).toContain('Detecting…');
    // A second click while it runs starts nothing.
    await tray.run('detect');
    engine.finish({ started: true, roundsScored: 60, incidents: 1, learning: false, backend: 'wasm' });
    await run;
    expect(engine.calls).toEqual(['detectNow']);
    expect(view.labels()).toContain('Detect now');
    expect(view.labels()).toContain('Checked at 14:05: 1 new incident');
  });

  it('toggles start at login, opens the window and quits', async () => {
    const { view, autostart, opened, tray } = setup();
    await tray.run('start-at-login');
    expect(autostart.on).toBe(true);
    const login = view.frames.at(-1)?.menu.find((i) => i.type === 'checkbox');
    expect(login).toMatchObject({ checked: true });
    await tray.run('open');
    await tray.run('quit');
    expect(opened).toEqual(['window', 'quit']);
  });

  it('keeps going when the engine refuses an action', async () => {
    const { engine, view, tray } = setup();
    engine.api.setPaused = () => {
      throw new Error('monitor stopped');
    };
    await tray.run('pause');
    expect(view.frames.at(-1)?.state.kind).toBe('normal');
  });
});

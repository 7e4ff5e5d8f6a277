import { describe, expect, it } from 'vitest';
import { formatClock, linuxBadge, problemOf, trayIconFile, trayStateOf, trayTitle } from '../../../src/main/desktop/trayState';
import { statusWith } from './support/status';

const now = new Date(2026, 2, 10, 14, 5).getTime();
const learningModel = { state: 'learning' as const, training: false, backend: 'wasm', version: 1, threshold: null, roundsSeen: 90, roundsNeeded: 360, progress: 0.25 };
const noPermission = { state: 'off' as const, iface: 'eth0', message: 'packet capture is off: no permission to capture on eth0', remedy: ['sudo setcap cap_net_raw+ep …'] };

describe('tray state from engine state', () => {
  it('is normal when monitoring with a trained model and nothing unseen', () => {
    const s = trayStateOf(statusWith(), now);
    expect(s.kind).toBe('normal');
    expect(s.headline).toBe('Monitoring; all normal');
    expect(s.tooltip).toBe('Portent: Monitoring; all normal\nLast round 14:03: 12 ports in use');
  });

  it('is learning until the model is ready, with its progress', () => {
    expect(trayStateOf(statusWith({ model: learningModel }), now)).toMatchObject({ kind: 'learning', headline: 'Learning what is normal: 25%' });
    expect(trayStateOf(statusWith({ model: { ...learningModel, state: 'none', progress: 0 } }), now).kind).toBe('learning');
  });

  it('says in the tooltip, while learning, when alerts start (rounds left times the round length)', () => {
    // 270 one-minute rounds left: four and a half hours, said as about 5.
    const s = trayStateOf(statusWith({ model: learningModel, roundSeconds: 60 }), now);
    expect(s.tooltip.split('\n')).toContain('Portent is learning what is normal on this machine; alerts start in about 5 hours.');
    // A monitor on 5-second rounds takes in the same rounds twelve times faster.
    expect(trayStateOf(statusWith({ model: learningModel, roundSeconds: 5 }), now).tooltip).toContain('alerts start in about 23 minutes');
    // Never trained: the whole learning period is still ahead; no monitor running: minute rounds.
    const fresh = trayStateOf(statusWith({ model: { ...learningModel, state: 'none', roundsSeen: 0, progress: 0 } }), now);
    expect(fresh.tooltip).toContain('alerts start in about 6 hours');
    // Behind a pause the sentence is still there; once ready it is gone.
    expect(trayStateOf(statusWith({ paused: true, model: learningModel }), now).tooltip).toContain('Portent is learning what is normal');
    expect(trayStateOf(statusWith(), now).tooltip).not.toContain('learning');
  });

  it('shows unseen incidents with their count above everything else', () => {
    const s = trayStateOf(statusWith({ incidents: { today: 3, week: 5, unseen: 3 }, paused: true, capture: noPermission, model: learningModel }), now);
    expect(s).toMatchObject({ kind: 'incident', unseen: 3, headline: '3 new incidents' });
    // The problem the icon does not show is still named in the tooltip.
    expect(s.tooltip).toContain('Packet capture is off: no permission to capture on eth0');
    expect(trayStateOf(statusWith({ incidents: { today: 1, week: 1, unseen: 1 } }), now).headline).toBe('1 new incident');
  });

  it('shows a pause above an error and learning', () => {
    expect(trayStateOf(statusWith({ paused: true, capture: noPermission, model: learningModel }), now)).toMatchObject({ kind: 'paused', headline: 'Monitoring paused' });
  });

  it('shows an error for capture without permission, a failed capture or round, or no monitor', () => {
    expect(trayStateOf(statusWith({ capture: noPermission, model: learningModel }), now)).toMatchObject({ kind: 'error', headline: 'Packet capture is off: no permission to capture on eth0' });
    expect(trayStateOf(statusWith({ capture: { state: 'error', iface: 'eth0', message: 'capture child exited', remedy: [] } }), now).headline).toBe('Capture child exited');
    const failed = statusWith({ lastRound: { id: 8, startedAt: now, status: 'failed', error: 'disk full', ports: 0 } });
    expect(trayStateOf(failed, now)).toMatchObject({ kind: 'error', headline: 'Last round failed: disk full' });
    expect(trayStateOf(statusWith({ monitoring: false }), now).headline).toBe('Not monitoring');
  });

  it('does not call capture turned off in settings an error', () => {
    const off = statusWith({ capture: { state: 'off', iface: null, message: 'packet capture is off: disabled in settings', remedy: [] } });
    expect(problemOf(off)).toBeNull();
    expect(trayStateOf(off, now).kind).toBe('normal');
  });

  it('says in the tooltip when the last round was, a detection running and a snooze', () => {
    const s = trayStateOf(statusWith({ detection: { running: true, lastRunAt: null, lastRunStatus: 'running' }, snoozedUntil: new Date(2026, 2, 10, 15, 5).getTime() }), now);
    expect(s.tooltip.split('\n')).toEqual(['Portent: Monitoring; all normal', 'Last round 14:03: 12 ports in use', 'Detecting…', 'Alerts snoozed until 15:05']);
    // A snooze that has ended is not mentioned.
    expect(trayStateOf(statusWith({ snoozedUntil: now - 1 }), now).tooltip).not.toContain('snoozed');
    expect(trayStateOf(statusWith({ lastRound: null }), now).tooltip).toContain('No round yet');
    expect(trayStateOf(statusWith({ lastRound: { id: 1, startedAt: now, status: 'running', error: null, ports: 0 } }), now).tooltip).toContain('Round running since 14:05');
  });

  it('formats the time of day with two digits each', () => {
    expect(formatClock(new Date(2026, 0, 1, 7, 4).getTime())).toBe('07:04');
  });
});

describe('tray icon choice', () => {
  it('uses template images on macOS with the count as the title', () => {
    expect(trayIconFile({ kind: 'incident', unseen: 4 }, 'darwin')).toBe('incidentTemplate.png');
    expect(trayIconFile({ kind: 'paused', unseen: 0 }, 'darwin')).toBe('pausedTemplate.png');
    expect(trayTitle({ unseen: 4 })).toBe('4');
    expect(trayTitle({ unseen: 0 })).toBe('');
  });

  it('draws the count into the icon on Linux, up to 9+', () => {
    expect(trayIconFile({ kind: 'normal', unseen: 0 }, 'linux')).toBe('normal.png');
    expect(trayIconFile({ kind: 'incident', unseen: 1 }, 'linux')).toBe('incident-1.png');
    expect(trayIconFile({ kind: 'incident', unseen: 9 }, 'linux')).toBe('incident-9.png');
    expect(trayIconFile({ kind: 'incident', unseen: 10 }, 'linux')).toBe('incident-9plus.png');
    expect(linuxBadge(250)).toBe('9plus');
  });
});

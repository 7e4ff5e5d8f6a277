import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../../src/main/engine/monitor';
import { createLogger } from '../../../src/main/engine/log';
import { openDatabase } from '../../../src/main/engine/store/database';
import { SettingsStore } from '../../../src/main/engine/store/settingsStore';
import { StatusSchema } from '../../../src/shared/contract';
import { tempDir } from '../../support/tmp';
import { captureAllowed } from './collect/capture/support/privilege';
import { echoOnce, listenTcpEcho } from './collect/capture/support/servers';
import type net from 'node:net';

const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.stop();
});

function start(): { monitor: Monitor; file: string; lines: string[] } {
  const file = path.join(tempDir(), 'portent.db');
  const lines: string[] = [];
  const monitor = new Monitor({ dbPath: file, log: createLogger((l) => lines.push(l), 'debug'), roundSeconds: 1, capture: false });
  monitors.push(monitor);
  monitor.start();
  return { monitor, file, lines };
}

const nextChange = (m: Monitor) => new Promise<void>((resolve) => m.once('changed', resolve));
const rounds = (m: Monitor) => m.db.prepare('SELECT count(*) FROM rounds').pluck().get() as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(process.platform === 'linux')('Monitor', () => {
  it('reports a status the contract accepts, and tells listeners after each round', async () => {
    const { monitor } = start();
    await nextChange(monitor);
    const status = monitor.status();
    expect(StatusSchema.parse(status)).toEqual(status);
    expect(status).toMatchObject({ monitoring: true, paused: false, lastRound: { status: 'ok' }, capture: { message: 'packet capture is off: disabled in settings' } });
  });

  it('records no rounds while paused, leaving a gap, and resumes', async () => {
    const { monitor } = start();
    await nextChange(monitor);
    monitor.setPaused(true);
    expect(monitor.status()).toMatchObject({ paused: true, capture: { message: 'packet capture is off: monitoring is paused' } });
    const before = rounds(monitor);
    await sleep(2200);
    expect(rounds(monitor)).toBe(before);
    monitor.setPaused(false);
    await nextChange(monitor);
    await nextChange(monitor);
    expect(rounds(monitor)).toBeGreaterThan(before);
  });

  it('snoozes alerts until a time, and a time in the past ends the snooze', () => {
    const { monitor } = start();
    const until = Date.now() + 3_600_000;
    monitor.snooze(until);
    expect(monitor.status().snoozedUntil).toBe(until);
    monitor.snooze(Date.now() - 1);
    expect(monitor.status().snoozedUntil).toBeNull();
  });

  it('applies a setting changed from another connection at its next round', async () => {
    const { monitor, file, lines } = start();
    const other = openDatabase(file);
    try {
      new SettingsStore(other).set('detection.learningHours', 2);
    } finally {
      other.close();
    }
    await nextChange(monitor);
    await nextChange(monitor);
    expect(lines.some((l) => l.includes('"msg":"settings applied"'))).toBe(true);
    expect(monitor.status().model.roundsNeeded).toBe(120);
  });

  it('refuses a second detection politely while one runs', async () => {
    const { monitor } = start();
    await nextChange(monitor);
    // A run the monitor started itself (a round that changed what listens is scored at once) may
    // still be going on a loaded machine; the first of the two below must be the only one.
    for (let i = 0; i < 600 && monitor.status().detection.running; i++) await sleep(100);
    const first = monitor.detectNow();
    expect(first).not.toBeNull();
    expect(monitor.detectNow()).toBeNull();
    const result = await first!;
    expect(result.roundsScored).toBeGreaterThanOrEqual(1);
    expect(monitor.status().detection.running).toBe(false);
  }, 60_000);

  it('runs its detections with the stored learning period, the one status reports', async () => {
    const { monitor } = start();
    new SettingsStore(monitor.db).set('detection.learningHours', 24);
    await nextChange(monitor);
    const result = await monitor.detectNow()!;
    expect(result.learning).toMatchObject({ learning: true, roundsNeeded: 1440 });
    expect(monitor.status().model).toMatchObject({ state: 'learning', roundsNeeded: 1440 });
  }, 60_000);

  it.skipIf(!captureAllowed().ok)('keeps the traffic since the last round when it stops: one last round is scanned and stored', async () => {
    const echo = await listenTcpEcho('127.0.0.1');
    const port = (echo.address() as net.AddressInfo).port;
    const file = path.join(tempDir(), 'portent.db');
    // Half-minute rounds: the traffic below is sent and the monitor stopped long before a
    // scheduled round would carry it.
    const monitor = new Monitor({
      dbPath: file,
      log: createLogger(() => undefined),
      roundSeconds: 30,
      capture: { iface: 'lo', filter: `tcp port ${port} and tcp[tcpflags] & tcp-syn != 0` },
    });
    monitor.start();
    try {
      while (monitor.captureStatus().state !== 'on') await sleep(50);
      for (let i = 0; i < 3; i++) await echoOnce(port, '127.0.0.1', `before stop ${i}`);
      await sleep(100);
    } finally {
      await monitor.stop();
      echo.close();
    }
    const db = openDatabase(file);
    try {
      expect(db.prepare('SELECT sum(packets) FROM flows').pluck().get()).toBe(6);
      expect(db.prepare('SELECT count(*) FROM round_capture').pluck().get()).toBeGreaterThanOrEqual(1);
    } finally {
      db.close();
    }
  }, 30_000);
});

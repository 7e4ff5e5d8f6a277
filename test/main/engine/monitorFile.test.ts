import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimMonitorFile, monitorFileOf, MonitorBusyError, readMonitorState, releaseMonitorFile, type MonitorState } from '../../../src/main/engine/monitorFile';
import { tempDir } from '../../support/tmp';

function stateOf(pid: number): MonitorState {
  return {
    pid,
    host: os.hostname(),
    startedAt: 1_700_000_000_000,
    roundSeconds: 60,
    paused: false,
    snoozedUntil: null,
    detecting: false,
    capture: { state: 'off', iface: null, message: 'disabled', remedy: [] },
    updatedAt: 1_700_000_000_000,
  };
}

describe('the monitor file', () => {
  it('is claimed, read back and released by its owner, private to the user', () => {
    const db = path.join(tempDir(), 'portent.db');
    claimMonitorFile(db, stateOf(process.pid));
    expect(readMonitorState(db)).toEqual(stateOf(process.pid));
    expect(fs.statSync(monitorFileOf(db)).mode & 0o777).toBe(0o600);
    releaseMonitorFile(db);
    expect(fs.existsSync(monitorFileOf(db))).toBe(false);
    expect(readMonitorState(db)).toBeNull();
  });

  it('refuses a second monitor while the first process lives, and takes over once it is gone', async () => {
    const db = path.join(tempDir(), 'portent.db');
    const other = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(monitorFileOf(db), JSON.stringify(stateOf(other.pid!)));
      expect(() => claimMonitorFile(db, stateOf(process.pid))).toThrow(MonitorBusyError);
      expect(() => claimMonitorFile(db, stateOf(process.pid))).toThrow(new RegExp(`another Portent monitor \\(pid ${other.pid}\\) is already running`));
      // Not ours: releasing leaves the other monitor's claim alone.
      releaseMonitorFile(db);
      expect(readMonitorState(db)?.pid).toBe(other.pid);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    expect(readMonitorState(db)).toBeNull();
    claimMonitorFile(db, stateOf(process.pid));
    expect(readMonitorState(db)?.pid).toBe(process.pid);
  });

  it('treats a damaged or foreign file as no monitor', () => {
    const db = path.join(tempDir(), 'portent.db');
    fs.writeFileSync(monitorFileOf(db), '{half');
    expect(readMonitorState(db)).toBeNull();
    fs.writeFileSync(monitorFileOf(db), JSON.stringify({ ...stateOf(process.pid), host: 'another-host' }));
    expect(readMonitorState(db)).toBeNull();
  });
});

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../../../src/main/engine/monitor';
import { createLogger } from '../../../../src/main/engine/log';
import { RotatingFile } from '../../../../src/main/engine/logFile';
import { StatusSchema } from '../../../../src/shared/contract';
import { exitOf, startCli } from '../../../support/cli';
import { clearOfTheNextTick, eventually, fillDisk, linesWith, mountTmpfs, roundsSoFar, sleep, storedRoundIds, tmpfsUnavailable } from './support';

const unavailable = tmpfsUnavailable();
const mounts: { unmount: () => void }[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) m.unmount();
});

const FULL = 'the disk holding the database is full: rounds are skipped until space is freed; everything stored so far is kept';

describe.skipIf(unavailable !== null)(`a full disk under the data folder${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('portent run says so once, keeps every stored round, and records again once space is freed', async () => {
    // 6 MB: the schema, a few rounds, the log and the model folder's parent, then the filler.
    const disk = mountTmpfs(6 * 1024 * 1024);
    mounts.push(disk);
    const file = path.join(disk.dir, 'portent.db');
    const child = startCli(['run', '--round-seconds', '1', '--no-capture', '--db', file]);
    const exit = exitOf(child);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const lines = () => stderr.split('\n');
    try {
      expect(await eventually(() => roundsSoFar(file).length >= 3, 300)).toBe(true);
      const before = storedRoundIds(file);
      const filler = fillDisk(disk.dir);
      // SQLite reuses the write-ahead log's pages for a while; the first round that needs a new
      // block fails.
      expect(await eventually(() => linesWith(lines(), FULL).length > 0, 300)).toBe(true);
      const skippedFrom = storedRoundIds(file).at(-1)!;
      // Four more one-second rounds while full: still the one line, no error per round.
      await new Promise((r) => setTimeout(r, 4000));
      expect(child.exitCode).toBeNull();
      expect(linesWith(lines(), FULL)).toHaveLength(1);
      expect(linesWith(lines(), 'collect failed')).toEqual([]);
      expect(storedRoundIds(file).at(-1)).toBe(skippedFrom);

      fs.rmSync(filler);
      expect(await eventually(() => linesWith(lines(), 'rounds are recorded again').length > 0, 100)).toBe(true);
      expect(await eventually(() => storedRoundIds(file).filter((id) => id > skippedFrom).length >= 2, 100)).toBe(true);
      const recovered = JSON.parse(linesWith(lines(), 'rounds are recorded again')[0]!) as { fault: string; roundsSkipped: number };
      expect(recovered).toMatchObject({ fault: 'disk-full', roundsSkipped: expect.any(Number) });
      expect(recovered.roundsSkipped).toBeGreaterThanOrEqual(3);

      child.kill('SIGTERM');
      expect((await exit).code).toBe(0);
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const kept = new Set(db.prepare('SELECT id FROM rounds').pluck().all() as number[]);
        expect(before.filter((id) => !kept.has(id))).toEqual([]);
      } finally {
        db.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    }
  }, 120_000);

  it('status tells the fault and the rounds skipped, and recording again once space is back', async () => {
    const disk = mountTmpfs(6 * 1024 * 1024);
    mounts.push(disk);
    const logLines: string[] = [];
    const monitor = new Monitor({ dbPath: path.join(disk.dir, 'portent.db'), log: createLogger((l) => logLines.push(l), 'debug'), roundSeconds: 60, capture: false });
    await clearOfTheNextTick();
    monitor.start();
    try {
      // Rounds a few milliseconds apart, as they are seconds apart in use: two starting in the
      // same millisecond would be one round twice, which the monitor refuses.
      const round = async () => {
        await sleep(3);
        return monitor.collectNow();
      };
      for (let i = 0; i < 3; i++) expect(await round()).toMatchObject({ status: 'ok' });
      expect(monitor.status().recording).toMatchObject({ state: 'recording', roundsSkipped: 0 });
      const filler = fillDisk(disk.dir);
      // Rounds go on until one needs a block the disk no longer has (bounded).
      let skipped = 0;
      for (let i = 0; i < 200 && skipped < 3; i++) if ((await round()) === null) skipped += 1;
      expect(skipped).toBe(3);
      const status = monitor.status();
      expect(StatusSchema.parse(status)).toEqual(status);
      expect(status.recording).toMatchObject({ state: 'disk-full', message: FULL, roundsSkipped: 3, skippedTotal: 3, since: expect.any(Number) });
      expect(linesWith(logLines, FULL)).toHaveLength(1);

      fs.rmSync(filler);
      expect(await round()).toMatchObject({ status: 'ok' });
      expect(monitor.status().recording).toMatchObject({ state: 'recording', since: null, roundsSkipped: 0, skippedTotal: 3 });
      expect(monitor.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await monitor.stop();
    }
  }, 60_000);

  it('the log on the same disk drops its lines while full instead of throwing at the monitor, then says how many it lost', () => {
    const disk = mountTmpfs(256 * 1024);
    mounts.push(disk);
    const log = new RotatingFile(path.join(disk.dir, 'logs', 'portent.log'));
    try {
      log.write('{"msg":"before"}');
      const filler = fillDisk(disk.dir);
      // Long lines: no room is left for any of them.
      for (let i = 0; i < 5; i++) expect(() => log.write(JSON.stringify({ msg: 'while full', pad: 'x'.repeat(8192) }))).not.toThrow();
      fs.rmSync(filler);
      log.write('{"msg":"after"}');
    } finally {
      log.close();
    }
    const lines = fs.readFileSync(path.join(disk.dir, 'logs', 'portent.log'), 'utf8').split('\n').filter(Boolean);
    expect(lines[0]).toBe('{"msg":"before"}');
    const lost = lines.map((l) => JSON.parse(l) as { msg: string; lines?: number }).find((l) => l.msg === 'log lines lost: the log file could not be written');
    expect(lost?.lines).toBe(5);
    expect(lines.at(-1)).toBe('{"msg":"after"}');
  });
});

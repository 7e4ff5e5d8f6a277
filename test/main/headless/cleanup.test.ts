import path from 'node:path';
import { sink } from '../../support/cli';
import { describe, expect, it } from 'vitest';
import { DatabaseOpenError, openDatabase } from '../../../src/main/engine/store/database';
import { SettingsStore } from '../../../src/main/engine/store/settingsStore';
import type { CleanupResult } from '../../../src/main/engine/maintain/cleanup';
import { cleanupCommand, describeCleanup } from '../../../src/main/headless/commands/cleanup';
import type { CommandContext } from '../../../src/main/headless/command';
import { tempDir } from '../../support/tmp';

const DAY = 86_400_000;

async function cleanup(file: string, json = false) {
  const out = sink();
  const err = sink();
  const ctx: CommandContext = { values: { db: file, json }, positionals: [], stdout: out.stream, stderr: err.stream, env: {} };
  const code = await cleanupCommand.run(ctx);
  return { code, stdout: out.text(), stderr: err.text() };
}

/** A database with one round from 10 days ago: its packets are past the default 7 days. */
function databaseWithOldPackets(): string {
  const file = path.join(tempDir(), 'portent.db');
  const db = openDatabase(file);
  const startedAt = Date.now() - 10 * DAY;
  const id = db.prepare("INSERT INTO rounds (started_at, host, status) VALUES (?, 'box', 'ok')").run(startedAt).lastInsertRowid;
  const packet = db.prepare("INSERT INTO packets (round_id, ts, protocols, length) VALUES (?, ?, 'eth:ip:udp', 60)");
  for (let i = 0; i < 3; i++) packet.run(id, startedAt + i);
  db.close();
  return file;
}

describe('portent cleanup', () => {
  it('runs one cleanup with the stored settings and says what it removed', async () => {
    const file = databaseWithOldPackets();
    const r = await cleanup(file);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Removed 0 round socket rows, 0 connection spans, 3 packets, 0 flows and 0 traffic windows; database [\d.]+ MB -> [\d.]+ MB\.\n$/);

    const again = await cleanup(file, true);
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout) as CleanupResult;
    expect(result).toMatchObject({ status: 'ok', removed: { roundPorts: 0, packets: 0, flows: 0, forCap: 0 } });

    const db = openDatabase(file);
    expect(db.prepare('SELECT trigger, status, removed_packets FROM cleanup_runs ORDER BY id').all()).toEqual([
      { trigger: 'manual', status: 'ok', removed_packets: 3 },
      { trigger: 'manual', status: 'ok', removed_packets: 0 },
    ]);
    db.close();
  });

  it('follows a changed retention setting', async () => {
    const file = databaseWithOldPackets();
    const db = openDatabase(file);
    new SettingsStore(db).set('retention.packetsDays', 14);
    db.close();
    const r = await cleanup(file);
    expect(r.stdout).toMatch(/^Nothing to remove: no detail was past its retention or over the size cap; database [\d.]+ MB -> [\d.]+ MB\.\n$/);
  });

  it('does not create a database that is not there', async () => {
    const file = path.join(tempDir(), 'none.db');
    await expect(cleanup(file)).rejects.toThrow(DatabaseOpenError);
    await expect(cleanup(file)).rejects.toThrow(/there is no Portent database at/);
  });
});

describe('describeCleanup', () => {
  it('names the size cap when it removed anything', () => {
    const r: CleanupResult = { runId: 1, status: 'ok', startedAt: 0, endedAt: 1, removed: { roundPorts: 1, connections: 2, packets: 5000, flows: 0, trafficWindows: 12, forCap: 4000 }, reportFiles: 0, bytesBefore: 60 * 1024 * 1024, bytesAfter: 49.5 * 1024 * 1024 };
    expect(describeCleanup(r, 50)).toBe('Removed 1 round socket row, 2 connection spans, 5000 packets, 0 flows and 12 traffic windows (4000 of them to stay under the 50 MB cap); database 60.0 MB -> 49.5 MB.');
  });
});

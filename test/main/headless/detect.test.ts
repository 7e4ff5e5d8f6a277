import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { collectRound } from '../../../src/main/engine/collect/collectRound';
import { createSocketScanner } from '../../../src/main/engine/collect/sockets';
import { silentLogger } from '../../../src/main/engine/log';
import { openDatabase } from '../../../src/main/engine/store/database';
import { RoundStore } from '../../../src/main/engine/store/rounds';
import { runCli } from '../../support/cli';
import { tempDir } from '../../support/tmp';

/** A real database holding `n` real rounds of this machine, one minute apart. */
async function databaseWithRounds(n: number): Promise<string> {
  const file = path.join(tempDir(), 'portent.db');
  const db = openDatabase(file);
  const store = new RoundStore(db);
  const start = Date.now() - n * 60_000;
  for (let i = 0; i < n; i++) {
    await collectRound({ scanner: createSocketScanner(), store, host: 'h', log: silentLogger, now: () => start + i * 60_000 });
  }
  db.close();
  return file;
}

describe.runIf(process.platform === 'linux')('portent detect and anomalies', () => {
  it('detect scores the unscored rounds in the worker and reports that Portent is still learning', async () => {
    const file = await databaseWithRounds(6);
    const r = runCli(['detect', '--json', '--db', file]);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { roundsScored: number; incidents: unknown[]; learning: { learning: boolean; roundsNeeded: number }; backend: string };
    expect(result.learning).toMatchObject({ learning: true, roundsNeeded: 360 });
    expect(result.incidents).toEqual([]); // no alerts while learning, whatever the scores
    expect(['wasm', 'tensorflow', 'cpu']).toContain(result.backend);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT trigger, status FROM detection_runs").all()).toEqual([{ trigger: 'manual', status: 'ok' }]);
    db.close();

    const text = runCli(['detect', '--db', file]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/Learning: has taken in \d+ of the 360 rounds needed/);
  }, 120_000);

  it('anomalies lists nothing on a database without incidents and validates --limit', async () => {
    const file = await databaseWithRounds(1);
    const json = runCli(['anomalies', '--json', '--db', file]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
    expect(runCli(['anomalies', '--db', file]).stdout).toBe('No incidents recorded.\n');
    const bad = runCli(['anomalies', '--limit', 'lots', '--db', file]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--limit must be a whole number/);
  });
});

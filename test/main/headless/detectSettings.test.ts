import path from 'node:path';
import { sink } from '../../support/cli';
import { describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../../src/main/engine/store/database';
import { SettingsStore } from '../../../src/main/engine/store/settingsStore';
import { RoundStore } from '../../../src/main/engine/store/rounds';
import { countConnections } from '../../../src/main/engine/collect/sockets/types';
import { detectInWorker } from '../../../src/main/engine/detect/detectInWorker';
import type * as DetectInWorkerModule from '../../../src/main/engine/detect/detectInWorker';
import { detectCommand } from '../../../src/main/headless/commands/detect';
import { statusCommand } from '../../../src/main/headless/commands/status';
import type { CommandContext } from '../../../src/main/headless/command';
import { listener } from '../engine/detect/support';
import { tempDir } from '../../support/tmp';

// The real worker runs; the wrapper only records what the command asked it to do.
vi.mock('../../../src/main/engine/detect/detectInWorker', async (importOriginal) => {
  const real = await importOriginal<typeof DetectInWorkerModule>();
  return { detectInWorker: vi.fn(real.detectInWorker) };
});

const MIN = 60_000;

async function runCommand(command: typeof detectCommand, file: string) {
  const out = sink();
  const err = sink();
  const ctx: CommandContext = { values: { db: file, json: true }, positionals: [], stdout: out.stream, stderr: err.stream, env: {} };
  const code = await command.run(ctx);
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('portent detect and the stored settings', () => {
  it('learns for detection.learningHours and passes alertsPerDay and sensitivity, as the monitor does and status says', async () => {
    // A database set up as `portent config set` would, then 370 quiet rounds: more than the
    // default 360 rounds of learning, far fewer than the 1,440 of 24 hours.
    const file = path.join(tempDir(), 'portent.db');
    const db = openDatabase(file);
    const settings = new SettingsStore(db);
    settings.set('detection.learningHours', 24);
    settings.set('detection.alertsPerDay', 6);
    settings.set('detection.sensitivity', 'low');
    const store = new RoundStore(db);
    const start = Date.now() - 400 * MIN;
    for (let i = 0; i < 370; i++) {
      const t = start + i * MIN;
      store.record({ host: 'h', startedAt: t, endedAt: t + 100, outcome: { sockets: [listener(22), listener(631, '/usr/sbin/cupsd', 822)], connections: countConnections([]) } });
    }
    db.close();

    const r = await runCommand(detectCommand, file);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { roundsScored: number; threshold: number | null; incidents: unknown[]; learning: { learning: boolean; roundsSeen: number; roundsNeeded: number } };
    expect(result.roundsScored).toBe(370);
    expect(result.learning).toEqual({ learning: true, roundsSeen: 370, roundsNeeded: 1440 });
    expect(result.incidents).toEqual([]);
    expect(vi.mocked(detectInWorker).mock.calls.at(-1)![0].options).toEqual({ trigger: 'manual', minTrainingRounds: 1440, budget: 6 / 1440, sensitivity: 0.8 });

    const status = await runCommand(statusCommand, file);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ model: { state: 'learning', roundsSeen: 370, roundsNeeded: 1440 } });
  }, 180_000);
});

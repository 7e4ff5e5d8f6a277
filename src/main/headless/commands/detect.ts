import { detectInWorker } from '../../engine/detect/detectInWorker';
import { detectionOptions } from '../../engine/detectionOptions';
import { CancelledError } from '../../engine/detect/cancelled';
import type { SerializableDetectorOptions } from '../../engine/detect/workerProtocol';
import { createLogger } from '../../engine/log';
import { modelDirFor } from '../../engine/paths';
import { openDatabase } from '../../engine/store/database';
import type { Command } from '../command';
import { resolveDbPath } from '../dbOption';

export const detectCommand: Command = {
  name: 'detect',
  summary: 'Score every round not scored yet, record incidents, then refit the model (Ctrl-C cancels)',
  usage: '[--json] [--db PATH]',
  options: { json: { type: 'boolean' }, db: { type: 'string' } },
  async run(ctx) {
    const dbPath = resolveDbPath(ctx);
    const log = createLogger((line) => ctx.stderr.write(line + '\n'), 'warn');
    // Opening here refuses a bad file and applies migrations before the worker touches it. The
    // stored settings apply as they do to the monitor's detections.
    const db = openDatabase(dbPath);
    let options: SerializableDetectorOptions;
    try {
      options = detectionOptions(db, 'manual', log);
    } finally {
      db.close();
    }
    const handle = detectInWorker({ dbPath, modelDir: modelDirFor(dbPath), options }, log);
    const onSignal = () => handle.cancel();
    process.once('SIGINT', onSignal);
    try {
      const r = await handle.result;
      if (ctx.values.json) {
        ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return 0;
      }
      const lines = [`Scored ${r.roundsScored} round(s) on the ${r.backend} backend (${(r.scoreMs / 1000).toFixed(1)} s), refit ${r.epochs} epoch(s) (${(r.fitMs / 1000).toFixed(1)} s).`];
      if (r.learning.learning) {
        lines.push(`Learning: has taken in ${r.learning.roundsSeen} of the ${r.learning.roundsNeeded} rounds needed before Portent raises alerts.`);
      } else {
        lines.push(r.incidents.length === 0 ? 'Nothing out of the ordinary.' : `${r.incidents.length} incident(s):`);
      }
      for (const i of r.incidents) lines.push(`  #${i.id} ${new Date(i.startedAt).toISOString()}  ${i.sentence}`);
      ctx.stdout.write(lines.join('\n') + '\n');
      return 0;
    } catch (err) {
      if (err instanceof CancelledError) {
        ctx.stderr.write('portent detect: cancelled; rounds not scored yet will be scored by the next detection.\n');
        return 130;
      }
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};

import { createLogger } from '../../engine/log';
import { runCleanup, type CleanupResult } from '../../engine/maintain/cleanup';
import { SettingsStore } from '../../engine/store/settingsStore';
import type { Command } from '../command';
import { openExistingDatabase, resolveDbPath } from '../dbOption';
import { megabytes, plural } from '../format';


/** One line on what a cleanup removed and what it did to the file. */
export function describeCleanup(r: CleanupResult, maxDatabaseMb: number): string {
  const { roundPorts, connections, packets, flows, trafficWindows, forCap } = r.removed;
  const size = `database ${megabytes(r.bytesBefore)} -> ${megabytes(r.bytesAfter)}`;
  if (roundPorts + connections + packets + flows + trafficWindows === 0) return `Nothing to remove: no detail was past its retention or over the size cap; ${size}.`;
  const what = `${plural(roundPorts, 'round socket row', 'round socket rows')}, ${plural(connections, 'connection span', 'connection spans')}, ${plural(packets, 'packet', 'packets')}, ${plural(flows, 'flow', 'flows')} and ${plural(trafficWindows, 'traffic window', 'traffic windows')}`;
  const cap = forCap > 0 ? ` (${forCap} of them to stay under the ${maxDatabaseMb} MB cap)` : '';
  return `Removed ${what}${cap}; ${size}.`;
}

export const cleanupCommand: Command = {
  name: 'cleanup',
  summary: 'Remove detail older than its retention (and the oldest over the size cap) now, then compact the database (Ctrl-C stops)',
  usage: '[--json] [--db PATH]',
  options: { json: { type: 'boolean' }, db: { type: 'string' } },
  async run(ctx) {
    const dbPath = resolveDbPath(ctx);
    const db = openExistingDatabase(dbPath);
    const log = createLogger((line) => ctx.stderr.write(line + '\n'), 'warn');
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
    };
    process.once('SIGINT', onSignal);
    try {
      const settings = new SettingsStore(db, log).all();
      const r = await runCleanup(db, { retention: settings, trigger: 'manual', dbPath, log, shouldStop: () => interrupted });
      const line = describeCleanup(r, settings['retention.maxDatabaseMb']);
      if (ctx.values.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
      if (r.status === 'cancelled') {
        ctx.stderr.write(`portent cleanup: stopped. ${line} The next cleanup carries on from there.\n`);
        return 130;
      }
      if (!ctx.values.json) ctx.stdout.write(line + '\n');
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      db.close();
    }
  },
};

import { openDatabase } from '../../engine/store/database';
import { DetectionStore } from '../../engine/store/detectionStore';
import { UsageError, type Command } from '../command';
import { resolveDbPath } from '../dbOption';
import { parseSince } from '../parseTime';

export const anomaliesCommand: Command = {
  name: 'anomalies',
  summary: 'List recorded incidents, newest first, with the ports and processes that explain them',
  usage: '[--since T] [--limit N] [--json] [--db PATH]',
  options: { since: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, db: { type: 'string' } },
  async run(ctx) {
    const since = typeof ctx.values.since === 'string' ? parseSince(ctx.values.since) : undefined;
    const limit = ctx.values.limit === undefined ? 50 : Number(ctx.values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a whole number of at least 1; got '${String(ctx.values.limit)}'`);
    const db = openDatabase(resolveDbPath(ctx));
    try {
      const incidents = new DetectionStore(db).incidents({ limit, since });
      if (ctx.values.json) {
        ctx.stdout.write(JSON.stringify(incidents, null, 2) + '\n');
        return 0;
      }
      if (incidents.length === 0) {
        ctx.stdout.write('No incidents recorded.\n');
        return 0;
      }
      const out: string[] = [];
      for (const i of incidents) {
        out.push(`#${i.id} [${i.status}] ${new Date(i.startedAt).toISOString()} to ${new Date(i.endedAt).toISOString()}  score ${i.peakScore.toFixed(1)} / threshold ${i.threshold.toFixed(1)}`);
        out.push(`  ${i.sentence}`);
        for (const p of i.ports) {
          const who = p.process ? `${p.process}${p.pid ? ` (pid ${p.pid})` : ''}${p.exe ? ` ${p.exe}` : ''}` : 'owner unknown';
          out.push(`    ${p.port}/${p.proto} ${p.direction}, ${(p.share * 100).toFixed(0)}% of the error, ${who}`);
        }
      }
      ctx.stdout.write(out.join('\n') + '\n');
      return 0;
    } finally {
      db.close();
    }
  },
};

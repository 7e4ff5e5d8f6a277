import { RoundStore } from '../../engine/store/rounds';
import type { Command } from '../command';
import { openForReading, resolveDbPath } from '../dbOption';
import { parseSince } from '../parseTime';
import { formatTable } from '../table';
import { portentLine } from '../../engine/invocation';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export const portsCommand: Command = {
  name: 'ports',
  summary: 'List the ports the database has seen occupied, with their processes',
  usage: '[--since T] [--json] [--db PATH]',
  options: { since: { type: 'string' }, json: { type: 'boolean' }, db: { type: 'string' } },
  async run(ctx) {
    const since = typeof ctx.values.since === 'string' ? parseSince(ctx.values.since) : 0;
    const db = openForReading(resolveDbPath(ctx));
    try {
      const ports = new RoundStore(db).ports({ since });
      if (ctx.values.json) {
        ctx.stdout.write(JSON.stringify(ports, null, 2) + '\n');
        return 0;
      }
      if (ports.length === 0) {
        ctx.stdout.write(since ? `No ports seen since ${iso(since)}.\n` : `No rounds recorded yet: start the monitor with \`${portentLine('run')}\`.\n`);
        return 0;
      }
      ctx.stdout.write(
        formatTable(
          ['PROTO', 'PORT', 'PROCESSES', 'ADDRESSES', 'ROUNDS', 'FIRST SEEN', 'LAST SEEN'],
          ports.map((p) => [p.proto, p.port, p.processes.join(',') || null, p.addresses.join(','), p.rounds, iso(p.firstSeenAt), iso(p.lastSeenAt)]),
        ),
      );
      return 0;
    } finally {
      db.close();
    }
  },
};

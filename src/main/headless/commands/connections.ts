import { listConnections } from '../../engine/queries/connections';
import type { ConnectionEndpoint, Connections } from '../../../shared/contract';
import { UsageError, type Command, type CommandContext } from '../command';
import { openForReading, resolveDbPath } from '../dbOption';
import { hostPort, isoTime, plural } from '../format';
import { formatBytes } from '../../../shared/reportFormat';
import { parseSince } from '../parseTime';
import { formatTable } from '../table';

/** The range when no --since is given. */
const DEFAULT_SINCE = '24h';

function textOption(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} needs a value`);
  return value;
}

function endpointText(e: ConnectionEndpoint): string {
  const where = e.direction === 'out' ? hostPort(e.address, e.port) : e.address;
  return `${e.name ? `${e.name} ${where}` : where}${e.isNew ? ' (new)' : ''}`;
}

function ownerLine(p: Connections['processes'][number]): string {
  const count = plural(p.endpoints.length, 'endpoint', 'endpoints');
  if (p.process === null && p.exe === null && p.user === null) return `owner unknown: ${count}`;
  const details = [p.exe, p.user && `user ${p.user}`].filter((d): d is string => Boolean(d)).join(', ');
  return `${p.process ?? '(unnamed process)'}${details ? ` (${details})` : ''}: ${count}`;
}

function render(answer: Connections): string {
  const blocks = answer.processes.map(
    (p) =>
      `${ownerLine(p)}\n` +
      formatTable(
        ['ENDPOINT', 'PROTO', 'DIRECTION', 'STATES', 'FIRST SEEN', 'LAST SEEN', 'BYTES OUT', 'BYTES IN'],
        p.endpoints.map((e) => [
          endpointText(e),
          e.proto,
          e.direction === 'out' ? 'out' : `in :${e.localPort}`,
          e.states.join(','),
          isoTime(e.firstSeenAt),
          isoTime(e.lastSeenAt),
          e.traffic && formatBytes(e.traffic.bytesOut),
          e.traffic && formatBytes(e.traffic.bytesIn),
        ]),
      ),
  );
  const notes = answer.truncated ? ['Only the most recently seen endpoints are shown: narrow with --since, --process or --host.\n'] : [];
  return [...blocks, ...notes].join('\n');
}

export const connectionsCommand: Command = {
  name: 'connections',
  summary: `List which processes talked with which remote endpoints (names, ports, states, first and last seen, traffic) over the last day, or since T`,
  usage: '[--since T] [--process NAME] [--host TEXT] [--json] [--db PATH]',
  options: { since: { type: 'string' }, process: { type: 'string' }, host: { type: 'string' }, json: { type: 'boolean' }, db: { type: 'string' } },
  async run(ctx) {
    const now = Date.now();
    const from = parseSince(typeof ctx.values.since === 'string' ? ctx.values.since : DEFAULT_SINCE, now);
    const processName = textOption(ctx, 'process');
    const host = textOption(ctx, 'host');
    const db = openForReading(resolveDbPath(ctx));
    try {
      const answer = listConnections(db, { from, to: Math.max(now, from) + 1, process: processName, host });
      if (ctx.values.json) {
        ctx.stdout.write(JSON.stringify(answer, null, 2) + '\n');
        return 0;
      }
      if (answer.processes.length === 0) {
        const filters = [processName && `process ${processName}`, host && `host matching '${host}'`].filter(Boolean).join(' and ');
        ctx.stdout.write(`No connections${filters ? ` of ${filters}` : ''} seen since ${isoTime(from)}.\n`);
        return 0;
      }
      ctx.stdout.write(render(answer));
      return 0;
    } finally {
      db.close();
    }
  },
};

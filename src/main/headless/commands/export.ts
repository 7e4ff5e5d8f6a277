import { once } from 'node:events';
import type { Db } from '../../engine/store/database';
import { UsageError, type Command } from '../command';
import { openForReading, resolveDbPath } from '../dbOption';
import { parseSince } from '../parseTime';

type Row = Record<string, string | number | null>;

/** What can be exported: each a query over a time range, newest data never mixed with older. */
const TABLES = {
  rounds: {
    columns: ['id', 'started_at', 'ended_at', 'duration_ms', 'host', 'status', 'error'],
    sql: 'SELECT id, started_at, ended_at, duration_ms, host, status, error FROM rounds WHERE started_at >= @since ORDER BY started_at, id',
  },
  ports: {
    columns: ['round_id', 'round_started_at', 'proto', 'port', 'family', 'address', 'pid', 'process', 'exe', 'user'],
    // A socket per row, as the scan listed them: identical sockets (SO_REUSEPORT), which older
    // history keeps as one run with a count (migration 012), are repeated `count` times.
    sql: `WITH RECURSIVE copy(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM copy WHERE k < (SELECT max(count) FROM rounds_ports_runs))
          SELECT rp.round_id, r.started_at AS round_started_at, p.proto, p.port, rp.family, rp.address, rp.pid, pr.name AS process, pr.exe, pr.user
          FROM round_sockets rp JOIN copy ON copy.k <= rp.count JOIN rounds r ON r.id = rp.round_id JOIN ports p ON p.id = rp.port_id
          LEFT JOIN processes pr ON pr.id = rp.process_id
          WHERE rp.round_id >= (SELECT coalesce(min(id), 0) FROM rounds WHERE started_at >= @since) AND r.started_at >= @since
          ORDER BY r.started_at, rp.round_id, p.proto, p.port`,
  },
  incidents: {
    columns: ['id', 'started_at', 'ended_at', 'rounds', 'peak_score', 'threshold', 'status', 'sentence', 'ports'],
    // Ports as one text cell per incident ("4444/tcp appeared (nc, 62%); ..."), so CSV keeps one row per incident.
    sql: `SELECT i.id, i.started_at, i.ended_at, i.rounds, i.peak_score, i.threshold, i.status, i.sentence,
                 (SELECT group_concat(ip.port || '/' || ip.proto || ' ' || ip.direction || ' (' || coalesce(ip.process, 'unknown') || ', ' || CAST(round(ip.share * 100) AS INTEGER) || '%)', '; ')
                  FROM (SELECT * FROM incident_ports WHERE incident_id = i.id ORDER BY rank) ip) AS ports
          FROM incidents i WHERE i.started_at >= @since ORDER BY i.started_at, i.id`,
  },
} as const;
type TableName = keyof typeof TABLES;
const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** Writes, waiting when the stream's buffer is full, so a large export does not pile up in memory. */
async function put(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** RFC 4180: quote a cell holding a comma, quote, or line break; double its quotes. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A time column (`…_at`, epoch ms in the database) as ISO 8601 in UTC with its zone, as spreadsheets and the other commands read it. */
function csvValue(column: string, value: string | number | null | undefined): string | number | null {
  if (value === undefined || value === null) return null;
  return column.endsWith('_at') && typeof value === 'number' ? new Date(value).toISOString() : value;
}

async function exportCsv(db: Db, table: TableName, since: number, out: NodeJS.WritableStream): Promise<void> {
  const { columns, sql } = TABLES[table];
  await put(out, columns.join(',') + '\r\n');
  for (const row of db.prepare<{ since: number }, Row>(sql).iterate({ since })) {
    await put(out, columns.map((c) => csvCell(csvValue(c, row[c]))).join(',') + '\r\n');
  }
}

async function exportJson(db: Db, tables: TableName[], since: number, out: NodeJS.WritableStream): Promise<void> {
  await put(out, `{"since":${since}`);
  for (const table of tables) {
    await put(out, `,\n${JSON.stringify(table)}:[`);
    let first = true;
    for (const row of db.prepare<{ since: number }, Row>(TABLES[table].sql).iterate({ since })) {
      await put(out, (first ? '\n' : ',\n') + JSON.stringify(row));
      first = false;
    }
    await put(out, ']');
  }
  await put(out, '}\n');
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write rounds, ports and incidents as JSON or CSV to stdout',
  usage: `--format json|csv [--what ${TABLE_NAMES.join('|')}] [--since T] [--db PATH]`,
  options: { format: { type: 'string' }, what: { type: 'string' }, since: { type: 'string' }, db: { type: 'string' } },
  async run(ctx) {
    const format = ctx.values.format;
    if (format !== 'json' && format !== 'csv') throw new UsageError(`--format must be json or csv; got ${format === undefined ? 'nothing' : `'${String(format)}'`}`);
    const what = ctx.values.what;
    if (what !== undefined && !TABLE_NAMES.includes(what as TableName)) throw new UsageError(`--what must be one of ${TABLE_NAMES.join(', ')}; got '${String(what)}'`);
    // One CSV holds one table; JSON holds all three unless one is chosen.
    if (format === 'csv' && what === undefined) throw new UsageError(`CSV holds one table: add --what ${TABLE_NAMES.join('|')}`);
    const since = typeof ctx.values.since === 'string' ? parseSince(ctx.values.since) : 0;
    const db = openForReading(resolveDbPath(ctx));
    try {
      // One read transaction: the export is a consistent snapshot while the monitor keeps writing.
      db.exec('BEGIN');
      try {
        if (format === 'csv') await exportCsv(db, what as TableName, since, ctx.stdout);
        else await exportJson(db, what === undefined ? TABLE_NAMES : [what as TableName], since, ctx.stdout);
      } finally {
        db.exec('COMMIT');
      }
      return 0;
    } finally {
      db.close();
    }
  },
};

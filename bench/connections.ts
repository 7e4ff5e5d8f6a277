/**
 * Storage of connections: `npx tsx bench/connections.ts [--seed N] [--days D]` prints one JSON
 * object on stdout.
 *
 * Simulates D days (default 1) of one-minute rounds of a desktop and writes every round through
 * the real RoundStore into a real SQLite file, as the monitor does, then measures what the
 * connection tables (connection_spans and remote_endpoints, with their indexes) take: from
 * SQLite's dbstat table where this build has it, and in every case as the difference in file
 * size against the same rounds written without their connections. It also counts the rows a
 * store of one row per socket per round, or one row per group (process, remote end, state) per
 * round, would have written for the same rounds.
 *
 * The desktop, drawn from a seeded generator (mulberry32, `--seed`, default 1):
 * - A browser (one pid all along) holding about 60 connections at any time, in 60 slots that
 *   each open one connection after another: a remote end drawn from 180 regular ones (Zipf
 *   weights, so a few CDNs carry many connections at once) or, one time in five, from 120
 *   others visited only that day, so a day sees about 300 remote ends. 35 % of remote ends are
 *   IPv6, 15 % speak QUIC (connected UDP to port 443); of the TCP ones 95 % are on port 443,
 *   4 % on 80, 1 % on 8443. Each connection lives between 5 seconds and 40 minutes
 *   (log-uniform), starts in SYN-SENT for 150 ms, from a new ephemeral local port, and ends in
 *   CLOSE-WAIT (15 %, 5 s to 3 min) or FIN-WAIT-2 (10 %, up to a minute) or at once (the
 *   kernel's TIME-WAIT is not recorded). The next one in the slot starts up to 20 s later.
 * - A chat app with 3 connections that last all day, each reconnecting every 2 to 6 hours to
 *   one of its 6 gateway addresses (the old one lingers 2-30 s in CLOSE-WAIT).
 * - A package updater twice a day (07:00 and 19:00, ± 30 min; a new pid each time): 20
 *   parallel connections to 3 of 5 mirror addresses for 5 minutes, each download connection
 *   lasting 20 s to 2.5 min and replaced until the 5 minutes are over.
 * - The system resolver: a connected UDP socket to the router's port 53 caught by one round in
 *   twenty.
 * - One ssh session a day, accepted by the local sshd between 10:00 and 16:00 from a laptop on
 *   the LAN, held for an hour by its own sshd process.
 * - A dev server (node on 127.0.0.1:5173) that the browser holds a live-reload websocket to
 *   from 09:00 to 18:00, reconnected by a page reload every 20 to 90 minutes: both ends are on
 *   this machine (the browser's side 'out', the server's side 'in').
 * - Listeners, the same in every round: sshd (22, IPv4 and IPv6), the resolver's stub (TCP and
 *   UDP on 127.0.0.53 and 127.0.0.54), cupsd (631 on loopback), avahi (UDP 5353), the dev
 *   server.
 *
 * Days start at midnight UTC; every process is already running at the first round.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../src/shared/random';
import { compareConnections, compareSockets, countedConnections, type ConnectionEntry, type ConnectionState, type Proto, type SocketEntry } from '../src/main/engine/collect/sockets/types';
import { groupConnections } from '../src/main/engine/store/connectionStore';
import { openDatabase, type Db } from '../src/main/engine/store/database';
import { RoundStore } from '../src/main/engine/store/rounds';
import { optionOf } from './args';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Midnight UTC of a Monday. */
const START = Date.UTC(2025, 0, 6);
const HOST = 'desktop';
const CONNECTION_TABLES = ['connection_spans', 'remote_endpoints'];

const LOCAL_V4 = '192.168.1.10';
const LOCAL_V6 = '2001:db8:1:0:5054:ff:fe12:3456';
const ROUTER = '192.168.1.1';
const LAPTOP = '192.168.1.23';

type Rand = () => number;


interface Owner {
  pid: number;
  process: string;
  exe: string;
  user: string;
}

interface Endpoint {
  proto: Proto;
  family: 4 | 6;
  address: string;
  port: number;
}

/** One socket's life: from `start`, each phase's state until its `until`. */
interface Conn extends Pick<ConnectionEntry, 'proto' | 'family' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort'> {
  owner: Owner;
  start: number;
  phases: Array<{ state: ConnectionState; until: number }>;
}

const BROWSER: Owner = { pid: 2411, process: 'firefox', exe: '/usr/lib/firefox/firefox', user: 'alice' };
const CHAT: Owner = { pid: 3120, process: 'slack', exe: '/usr/lib/slack/slack', user: 'alice' };
const RESOLVER: Owner = { pid: 612, process: 'systemd-resolve', exe: '/usr/lib/systemd/systemd-resolved', user: 'systemd-resolve' };
const SSHD: Owner = { pid: 901, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' };
const CUPSD: Owner = { pid: 780, process: 'cupsd', exe: '/usr/sbin/cupsd', user: 'root' };
const AVAHI: Owner = { pid: 700, process: 'avahi-daemon', exe: '/usr/sbin/avahi-daemon', user: 'avahi' };
const DEV_SERVER: Owner = { pid: 5120, process: 'node', exe: '/usr/bin/node', user: 'alice' };
const DEV_PORT = 5173;

function listeners(): SocketEntry[] {
  const s = (proto: Proto, family: 4 | 6, address: string, port: number, o: Owner): SocketEntry => ({ proto, family, address, port, pid: o.pid, process: o.process, exe: o.exe, user: o.user });
  return [
    s('tcp', 4, '0.0.0.0', 22, SSHD),
    s('tcp', 6, '::', 22, SSHD),
    s('tcp', 4, '127.0.0.53', 53, RESOLVER),
    s('tcp', 4, '127.0.0.54', 53, RESOLVER),
    s('udp', 4, '127.0.0.53', 53, RESOLVER),
    s('udp', 4, '127.0.0.54', 53, RESOLVER),
    s('tcp', 4, '127.0.0.1', 631, CUPSD),
    s('tcp', 6, '::1', 631, CUPSD),
    s('udp', 4, '0.0.0.0', 5353, AVAHI),
    s('udp', 6, '::', 5353, AVAHI),
    s('tcp', 4, '127.0.0.1', DEV_PORT, DEV_SERVER),
  ].sort(compareSockets);
}

class Desktop {
  readonly conns: Conn[] = [];
  private nextPid = 40_000;

  constructor(
    private readonly rand: Rand,
    private readonly end: number,
  ) {}

  private uniform(a: number, b: number): number {
    return a + (b - a) * this.rand();
  }

  private logUniform(a: number, b: number): number {
    return Math.exp(this.uniform(Math.log(a), Math.log(b)));
  }

  private int(a: number, b: number): number {
    return Math.floor(this.uniform(a, b + 1));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  private shuffled<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  private ephemeralPort(): number {
    return this.int(32768, 60999);
  }

  private newPid(): number {
    this.nextPid += this.int(1, 400);
    return this.nextPid;
  }

  /** A public-looking address: IPv4 outside the private and loopback ranges, or IPv6 in 2a00::/12. */
  address(family: 4 | 6): string {
    if (family === 6) {
      const group = () => this.int(0, 0xffff).toString(16);
      return `2a0${this.int(0, 9)}:${group()}:${group()}:${group()}::${group()}`;
    }
    for (;;) {
      const a = this.int(1, 223);
      const b = this.int(0, 255);
      if (a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168)) continue;
      return `${a}.${b}.${this.int(0, 255)}.${this.int(1, 254)}`;
    }
  }

  private webEndpoint(): Endpoint {
    const family = this.rand() < 0.35 ? 6 : 4;
    if (this.rand() < 0.15) return { proto: 'udp', family, address: this.address(family), port: 443 };
    const r = this.rand();
    return { proto: 'tcp', family, address: this.address(family), port: r < 0.95 ? 443 : r < 0.99 ? 80 : 8443 };
  }

  /** A connection from this machine to `to`, established at `start` for `life` ms, then its tail. */
  private open(owner: Owner, to: Endpoint, start: number, life: number, tail: { state: ConnectionState; ms: number } | null = null): Conn {
    const local = to.address.startsWith('127.') ? '127.0.0.1' : to.family === 6 ? LOCAL_V6 : LOCAL_V4;
    const phases: Conn['phases'] = [];
    if (to.proto === 'tcp') phases.push({ state: 'syn-sent', until: start + 150 });
    phases.push({ state: to.proto === 'tcp' ? 'established' : 'connected', until: start + life });
    if (tail && to.proto === 'tcp') phases.push({ state: tail.state, until: start + life + tail.ms });
    const conn: Conn = { proto: to.proto, family: to.family, localAddress: local, localPort: this.ephemeralPort(), remoteAddress: to.address, remotePort: to.port, owner, start, phases };
    this.conns.push(conn);
    return conn;
  }

  browser(days: number): void {
    const regular = Array.from({ length: 180 }, () => this.webEndpoint());
    const weights = regular.map((_, rank) => 1 / (rank + 1));
    const total = weights.reduce((a, b) => a + b, 0);
    const cumulative: number[] = [];
    weights.reduce((sum, w) => (cumulative.push((sum + w) / total), sum + w), 0);
    const daily = Array.from({ length: days + 1 }, () => Array.from({ length: 120 }, () => this.webEndpoint()));
    const pickEndpoint = (t: number): Endpoint => {
      if (this.rand() < 0.8) {
        const r = this.rand();
        let lo = 0;
        let hi = cumulative.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cumulative[mid]! < r) lo = mid + 1;
          else hi = mid;
        }
        return regular[lo]!;
      }
      return this.pick(daily[Math.max(0, Math.floor((t - START) / DAY))]!);
    };
    for (let slot = 0; slot < 60; slot++) {
      // Slots start an hour early, so the first round already sees a browser in its stride.
      for (let t = START - this.uniform(0, HOUR); t < this.end; ) {
        const life = this.logUniform(5 * SECOND, 40 * MINUTE);
        const r = this.rand();
        const tail = r < 0.15 ? { state: 'close-wait' as const, ms: this.logUniform(5 * SECOND, 3 * MINUTE) } : r < 0.25 ? { state: 'fin-wait-2' as const, ms: this.uniform(SECOND, MINUTE) } : null;
        this.open(BROWSER, pickEndpoint(t), t, life, tail);
        t += life + this.uniform(0, 20 * SECOND);
      }
    }
  }

  chat(): void {
    const gateways = Array.from({ length: 6 }, (): Endpoint => ({ proto: 'tcp', family: 4, address: this.address(4), port: 443 }));
    for (let i = 0; i < 3; i++) {
      for (let t = START - this.uniform(0, 6 * HOUR); t < this.end; ) {
        const life = this.uniform(2 * HOUR, 6 * HOUR);
        this.open(CHAT, this.pick(gateways), t, life, { state: 'close-wait', ms: this.uniform(2 * SECOND, 30 * SECOND) });
        t += life + this.uniform(SECOND, 10 * SECOND);
      }
    }
  }

  updates(days: number): void {
    const mirrors = Array.from({ length: 5 }, (_, i): Endpoint => {
      const family = i % 2 === 0 ? 4 : 6;
      return { proto: 'tcp', family, address: this.address(family), port: 443 };
    });
    for (let day = 0; day < days; day++) {
      for (const hour of [7, 19]) {
        const begin = START + day * DAY + hour * HOUR + this.uniform(-30 * MINUTE, 30 * MINUTE);
        const finish = begin + 5 * MINUTE;
        const owner: Owner = { pid: this.newPid(), process: 'packagekitd', exe: '/usr/libexec/packagekitd', user: 'root' };
        const used = this.shuffled(mirrors).slice(0, 3);
        for (let slot = 0; slot < 20; slot++) {
          for (let t = begin; t < finish; ) {
            const life = Math.min(this.uniform(20 * SECOND, 150 * SECOND), finish - t);
            this.open(owner, this.pick(used), t, life);
            t += life + this.uniform(0, SECOND);
          }
        }
      }
    }
  }

  resolver(rounds: number): void {
    const router: Endpoint = { proto: 'udp', family: 4, address: ROUTER, port: 53 };
    for (let i = 0; i < rounds; i++) {
      if (this.rand() < 0.05) this.open(RESOLVER, router, START + i * MINUTE - this.uniform(0, 200), 300);
    }
  }

  ssh(days: number): void {
    for (let day = 0; day < days; day++) {
      const start = START + day * DAY + this.uniform(10 * HOUR, 16 * HOUR);
      const owner: Owner = { ...SSHD, pid: this.newPid() };
      this.conns.push({
        proto: 'tcp',
        family: 4,
        localAddress: LOCAL_V4,
        localPort: 22,
        remoteAddress: LAPTOP,
        remotePort: this.ephemeralPort(),
        owner,
        start,
        phases: [{ state: 'established', until: start + this.uniform(55 * MINUTE, 65 * MINUTE) }],
      });
    }
  }

  liveReload(days: number): void {
    for (let day = 0; day < days; day++) {
      const close = START + day * DAY + 18 * HOUR;
      for (let t = START + day * DAY + 9 * HOUR; t < close; ) {
        const life = Math.min(this.uniform(20 * MINUTE, 90 * MINUTE), close - t);
        const out = this.open(BROWSER, { proto: 'tcp', family: 4, address: '127.0.0.1', port: DEV_PORT }, t, life);
        this.conns.push({ ...out, localPort: DEV_PORT, remotePort: out.localPort, owner: DEV_SERVER, phases: [{ state: 'established', until: t + life }] });
        t += life + this.uniform(SECOND, 5 * SECOND);
      }
    }
  }
}

function stateAt(c: Conn, t: number): ConnectionState | null {
  if (t < c.start) return null;
  for (const p of c.phases) if (t < p.until) return p.state;
  return null;
}

function entry(c: Conn, state: ConnectionState): ConnectionEntry {
  const { proto, family, localAddress, localPort, remoteAddress, remotePort, owner } = c;
  return { proto, family, localAddress, localPort, remoteAddress, remotePort, state, ...owner };
}

/** Each round's connected sockets, in time order, as the scanner would report them. */
function* roundsOf(conns: Conn[], rounds: number): Generator<{ at: number; connected: ConnectionEntry[] }> {
  const byStart = [...conns].sort((a, b) => a.start - b.start);
  let next = 0;
  let live: Conn[] = [];
  for (let i = 0; i < rounds; i++) {
    const at = START + i * MINUTE;
    while (next < byStart.length && byStart[next]!.start <= at) live.push(byStart[next++]!);
    live = live.filter((c) => c.phases[c.phases.length - 1]!.until > at);
    const connected: ConnectionEntry[] = [];
    for (const c of live) {
      const state = stateAt(c, at);
      if (state) connected.push(entry(c, state));
    }
    yield { at, connected: connected.sort(compareConnections) };
  }
}

/** Pages of each named table and index, from dbstat; null when this SQLite was built without it. */
function dbstatBytes(db: Db): Record<string, number> | null {
  try {
    const rows = db
      .prepare<[], { name: string; bytes: number }>(
        `SELECT name, sum(pgsize) AS bytes FROM dbstat
         WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name IN (${CONNECTION_TABLES.map((t) => `'${t}'`).join(', ')}))
         GROUP BY name ORDER BY name`,
      )
      .all();
    return Object.fromEntries(rows.map((r) => [r.name, r.bytes]));
  } catch {
    return null;
  }
}

/** Writes the rounds into a new database in `dir`; returns its measures. */
function writeRounds(dir: string, name: string, conns: Conn[], rounds: number, withConnections: boolean) {
  const file = path.join(dir, `${name}.db`);
  const db = openDatabase(file);
  const store = new RoundStore(db);
  const sockets = listeners();
  let socketRows = 0;
  let groupRows = 0;
  const start = performance.now();
  for (const { at, connected } of roundsOf(conns, rounds)) {
    socketRows += connected.length;
    groupRows += groupConnections(connected, sockets).length;
    store.record({ host: HOST, startedAt: at, endedAt: at + 4, outcome: { sockets, connections: countedConnections(connected), ...(withConnections ? { connected } : {}) } });
  }
  const writeMs = performance.now() - start;
  db.pragma('wal_checkpoint(TRUNCATE)');
  const count = (table: string) => db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck().get()!;
  const measures = {
    fileBytes: fs.statSync(file).size,
    tables: dbstatBytes(db),
    spans: count('connection_spans'),
    endpoints: count('remote_endpoints'),
    processes: count('processes'),
    spansByProcess: Object.fromEntries(
      db
        .prepare<[], { name: string | null; spans: number }>('SELECT p.name, count(*) AS spans FROM connection_spans s LEFT JOIN processes p ON p.id = s.process_id GROUP BY p.name ORDER BY spans DESC')
        .all()
        .map((r) => [r.name ?? 'unknown', r.spans]),
    ),
    socketRows,
    groupRows,
    writeMs,
  };
  db.close();
  return measures;
}

function main(): void {
  const args = process.argv.slice(2);
  const seed = Number(optionOf(args, 'seed', '1'));
  const days = Number(optionOf(args, 'days', '1'));
  if (!Number.isInteger(seed) || !Number.isInteger(days) || days < 1 || days > 60) throw new Error('--seed takes an integer, --days an integer from 1 to 60');
  const rounds = days * 1440;
  const desktop = new Desktop(seededRandom(seed), START + days * DAY);
  desktop.browser(days);
  desktop.chat();
  desktop.updates(days);
  desktop.resolver(rounds);
  desktop.ssh(days);
  desktop.liveReload(days);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-bench-connections-'));
  try {
    const withConns = writeRounds(dir, 'with', desktop.conns, rounds, true);
    const without = writeRounds(dir, 'without', desktop.conns, rounds, false);
    const tableBytes = withConns.tables ? Object.values(withConns.tables).reduce((a, b) => a + b, 0) : null;
    const fileDifference = withConns.fileBytes - without.fileBytes;
    const perDay = (n: number) => Math.round(n / days);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'connections',
        seed,
        days,
        rounds,
        sockets_per_round_mean: Math.round((10 * withConns.socketRows) / rounds) / 10,
        connection_tables: {
          measured_by: tableBytes === null ? 'file size with and without connections' : 'dbstat',
          bytes: tableBytes ?? fileDifference,
          bytes_per_day: perDay(tableBytes ?? fileDifference),
          by_table_and_index: withConns.tables,
        },
        file_bytes: { with_connections: withConns.fileBytes, without_connections: without.fileBytes, difference: fileDifference, difference_per_day: perDay(fileDifference) },
        rows: {
          connection_spans: withConns.spans,
          connection_spans_per_day: perDay(withConns.spans),
          remote_endpoints: withConns.endpoints,
          connection_spans_by_process: withConns.spansByProcess,
          processes_with_connections: withConns.processes - without.processes,
          bytes_per_span: tableBytes === null ? null : Math.round(tableBytes / withConns.spans),
        },
        instead: {
          one_row_per_socket_per_round: withConns.socketRows,
          one_row_per_group_per_round: withConns.groupRows,
          spans_vs_socket_rows: Math.round((1000 * withConns.spans) / withConns.socketRows) / 1000,
        },
        write_ms_per_round: Math.round((1000 * withConns.writeMs) / rounds) / 1000,
      })}\n`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();

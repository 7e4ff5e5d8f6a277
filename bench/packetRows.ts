/**
 * Database cost of capture rows: `npx tsx bench/packetRows.ts` prints one JSON object.
 *
 * Writes rounds of sampled `packets` rows and of `flows` rows through CaptureStore into real
 * SQLite files (one per table, so each cost is measured alone, indexes included) with a busy
 * host's mix: 70% IPv4 and 30% IPv6 addresses, one packet in ten a DNS message with a name and
 * an answer, TCP flags, ports linked to a listener. The bytes per row it reports are what
 * DEFAULT_MAX_PACKETS_PER_ROUND in packetSample.ts is derived from.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CaptureReport } from '../src/main/engine/collect/capture/captureSummary';
import type { Flow } from '../src/main/engine/collect/capture/flows';
import { DEFAULT_MAX_PACKETS_PER_ROUND, type PacketRecord } from '../src/main/engine/collect/capture/packetSample';
import { CaptureStore } from '../src/main/engine/store/captureStore';
import { openDatabase } from '../src/main/engine/store/database';
import { RoundStore } from '../src/main/engine/store/rounds';
import { countConnections } from '../src/main/engine/collect/sockets/types';

const ROUNDS = 200;
const ROWS_PER_ROUND = 500;
const DAY_ROUNDS = 1440;
const BUDGET_BYTES = 50 * 1024 * 1024;

let seed = 1;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const v4 = (): string => `${pick([192, 10, 142, 151, 104])}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
const v6 = (): string => `2a00:1450:${Math.floor(rand() * 65536).toString(16)}:80c::${Math.floor(rand() * 65536).toString(16)}`;
const NAMES = ['www.example-cdn.com', 'api.github.com', 'incoming.telemetry.mozilla.org', 'ocsp.digicert.com', 'fonts.gstatic.com'];

function packet(ts: number): PacketRecord {
  const six = rand() < 0.3;
  const dns = rand() < 0.1;
  const name = pick(NAMES);
  return {
    ts,
    protocols: `eth:${six ? 'ipv6' : 'ipv4'}:${dns ? 'udp:dns' : 'tcp'}`,
    proto: dns ? 'udp' : 'tcp',
    srcAddr: six ? v6() : v4(),
    srcPort: dns ? 53 : pick([443, 8080, 22]),
    dstAddr: six ? v6() : v4(),
    dstPort: 32768 + Math.floor(rand() * 28000),
    length: 54 + Math.floor(rand() * 1460),
    tcpFlags: dns ? null : pick([0x10, 0x18, 0x02, 0x12, 0x11]),
    dnsQuery: dns ? name : null,
    dnsAnswer: dns ? `${v4()},${v4()}` : null,
  };
}

function flow(ts: number): Flow {
  const six = rand() < 0.3;
  return {
    proto: pick(['tcp', 'udp']),
    localAddr: six ? v6() : '192.168.1.23',
    localPort: pick([8080, 22, 32768 + Math.floor(rand() * 28000)]),
    remoteAddr: six ? v6() : v4(),
    remotePort: pick([443, 80, 53, 32768 + Math.floor(rand() * 28000)]),
    direction: pick(['outbound', 'inbound'] as const),
    packets: 1 + Math.floor(rand() * 5000),
    bytes: 60 + Math.floor(rand() * 5_000_000),
    firstTs: ts,
    lastTs: ts + Math.floor(rand() * 60_000),
    tcpFlags: 0x1b,
  };
}

function measure(kind: 'packets' | 'flows'): number {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'portent-rows-')), 'bench.db');
  const db = openDatabase(file);
  const rounds = new RoundStore(db);
  const store = new CaptureStore(db);
  const size = (): number => {
    db.pragma('wal_checkpoint(TRUNCATE)');
    return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  };
  const listener = { proto: 'tcp' as const, family: 4 as const, address: '0.0.0.0', port: 8080, pid: 1, process: 'web', exe: '/usr/bin/web', user: 'www' };
  const roundIds: number[] = [];
  const t0 = Date.now();
  for (let r = 0; r < ROUNDS; r++) roundIds.push(rounds.record({ host: 'bench', startedAt: t0 + r * 60_000, endedAt: t0 + r * 60_000 + 5, outcome: { sockets: [listener], connections: countConnections([]) } }));
  const before = size();
  for (const [r, id] of roundIds.entries()) {
    const ts = t0 + r * 60_000;
    const rows = Array.from({ length: ROWS_PER_ROUND }, (_, i) => i);
    const report: CaptureReport = {
      from: ts - 60_000,
      to: ts,
      flows: { flows: kind === 'flows' ? rows.map((i) => flow(ts - 60_000 + i)) : [], unattributed: { packets: 0, bytes: 0 }, overflow: { packets: 0, bytes: 0 } },
      dns: [],
      dnsOverflow: 0,
      malformed: {},
      sample: { packets: kind === 'packets' ? rows.map((i) => packet(ts - 60_000 + i * 100)) : [], seen: ROWS_PER_ROUND, dns: 0, dnsDropped: 0 },
      malformedCount: 0,
      counters: { seen: 0, decoded: 0, malformed: 0, truncated: 0, kernelDrops: null, batches: 0, callbackErrors: 0 },
    };
    store.record(id, { state: 'on', iface: 'eth0', report });
  }
  const perRow = (size() - before) / (ROUNDS * ROWS_PER_ROUND);
  db.close();
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return perRow;
}

const packetRowBytes = measure('packets');
const flowRowBytes = measure('flows');
const perRound = BUDGET_BYTES / DAY_ROUNDS;
console.log(
  JSON.stringify(
    {
      packetRowBytes: Math.round(packetRowBytes),
      flowRowBytes: Math.round(flowRowBytes),
      budgetBytesPerRound: Math.round(perRound),
      packetRowsWithinBudgetAlone: Math.floor(perRound / packetRowBytes),
      defaultMaxPacketsPerRound: DEFAULT_MAX_PACKETS_PER_ROUND,
      defaultPacketBytesPerDay: Math.round(DEFAULT_MAX_PACKETS_PER_ROUND * packetRowBytes * DAY_ROUNDS),
      flowRowsPerRoundLeftInBudget: Math.floor((perRound - DEFAULT_MAX_PACKETS_PER_ROUND * packetRowBytes) / flowRowBytes),
    },
    null,
    2,
  ),
);

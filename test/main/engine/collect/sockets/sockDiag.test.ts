import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../../../src/main/engine/log';
import { LinuxSocketScanner } from '../../../../../src/main/engine/collect/sockets/linuxSockets';
import { dumpTable, type SockDiag, type SockDiagRow, PACKED_RECORD, RowDecoder } from '../../../../../src/main/engine/collect/sockets/sockDiag';

// The netlink path without the addon: a stand-in SockDiag answers from a table of rows, the way
// the kernel filters them by state. sockDiag.real.test.ts checks the addon against the kernel.
const LISTEN = 10;
const ESTABLISHED = 1;
const CLOSE = 7;

const diagRow = (state: number, local: string, localPort: number, remote: string, remotePort: number, inode: number): SockDiagRow => ({
  state, localAddress: local, localPort, remoteAddress: remote, remotePort, inode, uid: 0,
});

/** Answers dumps from `tables` (key `protocol/family`) and records each request. */
function fakeDiag(tables: Record<string, SockDiagRow[]>): SockDiag & { requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    dump(protocol, family, stateMask) {
      requests.push(`${protocol}/${family}/${stateMask.toString(16)}`);
      return (tables[`${protocol}/${family}`] ?? []).filter((r) => (stateMask >>> r.state) & 1);
    },
  };
}

describe('dumpTable', () => {
  const tcp4 = [
    diagRow(LISTEN, '0.0.0.0', 22, '0.0.0.0', 0, 11),
    diagRow(ESTABLISHED, '10.0.0.2', 50000, '1.2.3.4', 443, 12),
    diagRow(6, '10.0.0.2', 50001, '1.2.3.4', 443, 0), // TIME_WAIT: never asked for
  ];

  it('asks for listeners, then for established connections while sockstat counts more sockets', () => {
    const diag = fakeDiag({ '6/4': tcp4 });
    const rows = dumpTable(diag, 'tcp', 4, 2);
    expect(diag.requests).toEqual(['6/4/400', '6/4/b3e']);
    expect(rows).toEqual([
      { family: 4, localAddress: '0.0.0.0', localPort: 22, remoteAddress: '0.0.0.0', remotePort: 0, state: LISTEN, uid: 0, inode: 11 },
      { family: 4, localAddress: '10.0.0.2', localPort: 50000, remoteAddress: '1.2.3.4', remotePort: 443, state: ESTABLISHED, uid: 0, inode: 12 },
    ]);
  });

  it('skips the walk of the established hash when every socket in use is a listener', () => {
    const diag = fakeDiag({ '6/6': [diagRow(LISTEN, '::', 80, '::', 0, 21)] });
    expect(dumpTable(diag, 'tcp', 6, 1).map((r) => r.localPort)).toEqual([80]);
    expect(diag.requests).toEqual(['6/6/400']);
  });

  it('asks for both when sockstat is unknown, and for nothing when it counts no socket', () => {
    const diag = fakeDiag({ '6/4': tcp4 });
    expect(dumpTable(diag, 'tcp', 4, undefined)).toHaveLength(2);
    expect(dumpTable(diag, 'tcp', 4, 0)).toEqual([]);
    expect(diag.requests).toEqual(['6/4/400', '6/4/b3e']);
  });

  it('takes every UDP socket in one dump, bound and connected', () => {
    const diag = fakeDiag({ '17/6': [diagRow(CLOSE, '::', 5353, '::', 0, 31), diagRow(ESTABLISHED, '::1', 40000, '::1', 53, 32)] });
    expect(dumpTable(diag, 'udp', 6, 2).map((r) => [r.family, r.state, r.localPort])).toEqual([[6, CLOSE, 5353], [6, ESTABLISHED, 40000]]);
    expect(diag.requests).toEqual(['17/6/ffffffff']);
  });
});

describe('LinuxSocketScanner table sources', () => {
  let root: string;
  let proc: string;

  // The same sockets once as /proc text and once as what netlink would answer.
  const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  const line = (local: string, remote: string, state: string, inode: number) =>
    `   0: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0`;
  const netlink = {
    '6/4': [diagRow(LISTEN, '0.0.0.0', 22, '0.0.0.0', 0, 1001), diagRow(ESTABLISHED, '192.168.1.23', 50000, '142.250.74.78', 443, 1101)],
    '6/6': [diagRow(LISTEN, '::', 80, '::', 0, 2001)],
    '17/4': [diagRow(CLOSE, '0.0.0.0', 5353, '0.0.0.0', 0, 3001)],
    '17/6': [],
  };

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'portent-diag-'));
    proc = path.join(root, 'proc');
    mkdirSync(path.join(proc, 'net'), { recursive: true });
    const table = (name: string, rows: string[]) => writeFileSync(path.join(proc, 'net', name), `${[HEADER, ...rows].join('\n')}\n`);
    table('tcp', [line('00000000:0016', '00000000:0000', '0A', 1001), line('1701A8C0:C350', '4E4AFA8E:01BB', '01', 1101)]);
    table('tcp6', [line('00000000000000000000000000000000:0050', '00000000000000000000000000000000:0000', '0A', 2001)]);
    table('udp', [line('00000000:14E9', '00000000:0000', '07', 3001)]);
    table('udp6', []);
    writeFileSync(path.join(proc, 'net', 'sockstat'), 'TCP: inuse 2 orphan 0 tw 0 alloc 2 mem 0\nUDP: inuse 1 mem 0\n');
    writeFileSync(path.join(proc, 'net', 'sockstat6'), 'TCP6: inuse 1\nUDP6: inuse 0\n');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const scanner = (options: ConstructorParameters<typeof LinuxSocketScanner>[0]) =>
    new LinuxSocketScanner({ procRoot: proc, passwdPath: path.join(root, 'passwd'), now: () => 0, ...options });

  function recordingLog(): Logger & { lines: string[] } {
    const lines: string[] = [];
    const keep = (msg: string, fields?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(fields ?? {})}`);
    return { lines, debug: keep, info: keep, warn: keep, error: keep };
  }

  it('gives the same snapshot from netlink as from /proc', async () => {
    const diag = fakeDiag(netlink);
    const viaNetlink = scanner({ source: 'netlink', loadSockDiag: () => diag });
    const viaProc = scanner({ source: 'proc' });
    expect(await viaNetlink.scan()).toEqual(await viaProc.scan());
    expect([viaNetlink.tableSource, viaProc.tableSource]).toEqual(['netlink', 'proc']);
    // sockstat6 counts no UDP6 socket, so that table is not asked for.
    expect(diag.requests).toEqual(['6/4/400', '6/4/b3e', '6/6/400', '17/4/ffffffff']);
  });

  it('uses /proc for a procRoot other than /proc when left to choose, without loading the addon', async () => {
    const s = scanner({ loadSockDiag: () => { throw new Error('must not be loaded'); } });
    expect((await s.scan()).sockets.map((x) => x.port)).toEqual([22, 80, 5353]);
    expect(s.tableSource).toBe('proc');
  });

  it('fails the scan when netlink is asked for and cannot be had', async () => {
    const s = scanner({ source: 'netlink', loadSockDiag: () => { throw new Error("Cannot find module 'portent-sockdiag'"); } });
    await expect(s.scan()).rejects.toThrow(/portent-sockdiag/);
  });

  it.skipIf(process.platform !== 'linux')('falls back to /proc for good when netlink is refused, with one debug line', async () => {
    const log = recordingLog();
    let loads = 0;
    const refused: SockDiag = {
      dump() {
        throw Object.assign(new Error('sockdiag socket: Operation not permitted'), { errno: 1 });
      },
    };
    const s = new LinuxSocketScanner({ log, loadSockDiag: () => (loads++, refused) });
    expect(s.tableSource).toBeNull();
    const first = await s.scan();
    await s.scan();
    expect(s.tableSource).toBe('proc');
    expect(first.connections).toHaveLength(6);
    expect(loads).toBe(1);
    expect(log.lines).toEqual(['socket tables: netlink unavailable, reading /proc/net {"reason":"sockdiag socket: Operation not permitted"}']);
  });

  it.skipIf(process.platform !== 'linux')('warns once, as a broken install, when the addon cannot be loaded, and reads /proc', async () => {
    const warnings: string[] = [];
    const log = { ...recordingLog(), warn: (msg: string) => warnings.push(msg) };
    let loads = 0;
    const s = new LinuxSocketScanner({ log, loadSockDiag: () => { loads++; throw new Error("Cannot find module 'portent-sockdiag'"); } });
    const first = await s.scan();
    await s.scan();
    expect(s.tableSource).toBe('proc');
    expect(first.sockets.length).toBeGreaterThanOrEqual(0);
    expect(loads).toBe(1);
    expect(warnings).toEqual(['socket tables: the netlink addon (portent-sockdiag) cannot be loaded, reading /proc/net instead (about 10 times the cost per round); reinstall Portent to build it']);
  });
});

describe('RowDecoder', () => {
  /** One packed record as the addon writes it (see native/sockdiag/sockdiag.c). */
  function record(o: { family: 4 | 6; state: number; localPort: number; remotePort: number; inode: number; uid: number; local: number[]; remote: number[] }): Buffer {
    const r = Buffer.alloc(PACKED_RECORD);
    r[0] = o.family;
    r[1] = o.state;
    r.writeUInt16LE(o.localPort, 2);
    r.writeUInt16LE(o.remotePort, 4);
    r.writeUInt32LE(o.inode, 8);
    r.writeUInt32LE(o.uid, 12);
    Buffer.from(o.local).copy(r, 16);
    Buffer.from(o.remote).copy(r, 32);
    return r;
  }
  const client = { family: 4 as const, state: 1, localPort: 41000, remotePort: 443, inode: 9001, uid: 1000, local: [192, 168, 1, 20], remote: [93, 184, 216, 34] };
  const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];

  it('decodes records as inet_ntop prints their addresses', () => {
    const d = new RowDecoder();
    d.begin();
    expect(d.decode(Buffer.concat([record(client)]), 4)).toEqual([
      { family: 4, localAddress: '192.168.1.20', localPort: 41000, remoteAddress: '93.184.216.34', remotePort: 443, state: 1, uid: 1000, inode: 9001 },
    ]);
    const six = d.decode(record({ ...client, family: 6, inode: 9002, local: mapped, remote: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] }), 6);
    expect(six.map((r) => [r.localAddress, r.remoteAddress])).toEqual([['::ffff:127.0.0.1', '2001:db8::1']]);
  });

  it('reuses the row of a socket that stayed as it was, and decodes one that changed state, or a reused inode', () => {
    const d = new RowDecoder();
    d.begin();
    const [first] = d.decode(record(client), 4);
    d.begin();
    const [same] = d.decode(record(client), 4);
    expect(same).toBe(first);
    d.begin();
    const [closing] = d.decode(record({ ...client, state: 8 }), 4);
    expect(closing).not.toBe(first);
    expect(closing).toMatchObject({ state: 8, remoteAddress: '93.184.216.34' });
    d.begin();
    const [other] = d.decode(record({ ...client, state: 8, remotePort: 80 }), 4);
    expect(other).toMatchObject({ remotePort: 80 });
    expect(other).not.toBe(closing);
    // Rows of sockets gone for a whole scan are forgotten.
    d.begin();
    d.decode(Buffer.alloc(0), 4);
    d.begin();
    expect(d.decode(record({ ...client, state: 8, remotePort: 80 }), 4)[0]).not.toBe(other);
  });
});

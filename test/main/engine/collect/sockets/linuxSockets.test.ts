import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinuxSocketScanner } from '../../../../../src/main/engine/collect/sockets/linuxSockets';
import type { SocketEntry } from '../../../../../src/main/engine/collect/sockets/types';

// A fake procfs tree (tables + /proc/<pid>/{comm,status,exe,fd/*}) so that ownership rules can
// be checked exactly; linuxSockets.real.test.ts checks the same code against the real kernel.
const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const row = (local: string, remote: string, state: string, inode: number) =>
  `   0: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0`;

const TCP = [
  row('00000000:0016', '00000000:0000', '0A', 1001), // 0.0.0.0:22, held by pids 30 and 100
  row('0100007F:0277', '00000000:0000', '0A', 1002), // 127.0.0.1:631, pid 250
  row('00000000:115C', '00000000:0000', '0A', 1003), // 0.0.0.0:4444, held by nobody we can see
  row('1701A8C0:C350', '4E4AFA8E:01BB', '01', 1101), // -> :443 well-known
  row('1701A8C0:C351', '14923911:146F', '01', 1102), // -> :5223 registered
  row('1701A8C0:0016', '0A01A8C0:C350', '01', 1103), // -> :50000 dynamic
  row('0100007F:C352', '0100007F:D000', '01', 1104), // -> :53248 dynamic
  row('1701A8C0:C353', '4E4AFA8E:01BB', '06', 0), // TIME_WAIT: not counted
];
const TCP6 = [row('00000000000000000000000000000000:0050', '00000000000000000000000000000000:0000', '0A', 2001)];
const UDP = [
  row('00000000:14E9', '00000000:0000', '07', 3001), // 0.0.0.0:5353, pid 400
  row('1701A8C0:D431', '0101A8C0:0035', '01', 3002), // connected -> :53
];

let root: string;
let proc: string;
let passwd: string;
let getent: string;

function writeTable(name: string, rows: string[]): void {
  writeFileSync(path.join(proc, 'net', name), `${[HEADER, ...rows].join('\n')}\n`);
}

function addProcess(pid: number, opts: { comm?: string; uid?: [number, number]; exe?: string; fds: Record<string, string> }): void {
  const dir = path.join(proc, String(pid));
  mkdirSync(path.join(dir, 'fd'), { recursive: true });
  if (opts.comm) writeFileSync(path.join(dir, 'comm'), `${opts.comm}\n`);
  if (opts.uid) writeFileSync(path.join(dir, 'status'), `Name:\t${opts.comm}\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t${opts.uid[0]}\t${opts.uid[1]}\t${opts.uid[0]}\t${opts.uid[1]}\nGid:\t0\t0\t0\t0\n`);
  if (opts.exe) symlinkSync(opts.exe, path.join(dir, 'exe'));
  for (const [fd, target] of Object.entries(opts.fds)) symlinkSync(target, path.join(dir, 'fd', fd));
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'portent-proc-'));
  proc = path.join(root, 'proc');
  mkdirSync(path.join(proc, 'net'), { recursive: true });
  mkdirSync(path.join(proc, 'sys')); // not a pid: ignored
  writeTable('tcp', TCP);
  writeTable('tcp6', TCP6);
  writeTable('udp', UDP);
  // No udp6: a kernel without IPv6 has none, which must read as an empty table.
  passwd = path.join(root, 'passwd');
  writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n');
  // A getent over the fixture passwd file that notes each run's arguments, as the real one
  // answers: the entries found, exit status 2 when some were not.
  getent = path.join(root, 'getent');
  writeFileSync(
    getent,
    `#!/bin/sh\necho "$*" >> '${root}/getent.log'\nshift\nstatus=0\nfor uid in "$@"; do\n  awk -F: -v u="$uid" '$3 == u { print; found = 1; exit } END { exit !found }' '${passwd}' || status=2\ndone\nexit $status\n`,
  );
  chmodSync(getent, 0o755);
  // "100" sorts before "30" as text: the lowest-pid rule must compare numbers.
  addProcess(100, { comm: 'sshd', uid: [0, 0], exe: '/usr/sbin/sshd', fds: { '5': 'socket:[1001]' } });
  addProcess(30, { comm: 'sshd', uid: [0, 0], exe: '/usr/sbin/sshd', fds: { '0': '/dev/null', '3': 'socket:[1001]', '4': 'socket:[2001]' } });
  // Real uid 1000, effective 33: the effective one is reported. No exe link: unreadable.
  addProcess(250, { comm: 'cupsd', uid: [1000, 33], fds: { '7': 'socket:[1002]', '8': 'socket:[1101]' } });
  addProcess(400, { comm: 'avahi-daemon', uid: [4242, 4242], exe: '/usr/sbin/avahi-daemon', fds: { '12': 'socket:[3001]' } });
  mkdirSync(path.join(proc, '7')); // a process without an fd directory we can read
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

const scanner = (fullWalkEvery = 10) => new LinuxSocketScanner({ procRoot: proc, passwdPath: passwd, getent, fullWalkEvery, now: () => 1_700_000_000_000 });
const getentRuns = () => readFileSync(path.join(root, 'getent.log'), 'utf8').trim().split('\n');
const owner = (s: SocketEntry) => [s.proto, s.address, s.port, s.pid];

describe('LinuxSocketScanner on a fixture /proc', () => {
  it('reports each bound socket once, owned by the lowest pid, with nothing guessed', async () => {
    const snap = await scanner().scan();
    expect(snap.takenAt).toBe(1_700_000_000_000);
    expect(snap.sockets).toEqual([
      { proto: 'tcp', family: 4, address: '0.0.0.0', port: 22, pid: 30, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' },
      { proto: 'tcp', family: 6, address: '::', port: 80, pid: 30, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' },
      { proto: 'tcp', family: 4, address: '127.0.0.1', port: 631, pid: 250, process: 'cupsd', exe: null, user: 'www-data' },
      { proto: 'tcp', family: 4, address: '0.0.0.0', port: 4444, pid: null, process: null, exe: null, user: null },
      { proto: 'udp', family: 4, address: '0.0.0.0', port: 5353, pid: 400, process: 'avahi-daemon', exe: '/usr/sbin/avahi-daemon', user: '4242' },
    ]);
  });

  it('counts established TCP and connected UDP by remote port class, always all six', async () => {
    const snap = await scanner().scan();
    expect(snap.connections).toEqual([
      { proto: 'tcp', remotePortClass: 'well-known', count: 1 },
      { proto: 'tcp', remotePortClass: 'registered', count: 1 },
      { proto: 'tcp', remotePortClass: 'dynamic', count: 2 },
      { proto: 'udp', remotePortClass: 'well-known', count: 1 },
      { proto: 'udp', remotePortClass: 'registered', count: 0 },
      { proto: 'udp', remotePortClass: 'dynamic', count: 0 },
    ]);
  });

  it('notices a remembered owner that let go of its socket', async () => {
    const s = scanner();
    expect((await s.scan()).sockets.map(owner)[0]).toEqual(['tcp', '0.0.0.0', 22, 30]);
    unlinkSync(path.join(proc, '30', 'fd', '3'));
    expect((await s.scan()).sockets.map(owner)[0]).toEqual(['tcp', '0.0.0.0', 22, 100]);
  });

  it('finds the owner of a socket that appeared since the last scan', async () => {
    const s = scanner();
    await s.scan();
    symlinkSync('socket:[1004]', path.join(proc, '100', 'fd', '9'));
    writeTable('tcp', [...TCP, row('00000000:1F90', '00000000:0000', '0A', 1004)]);
    expect((await s.scan()).sockets.map(owner)).toContainEqual(['tcp', '0.0.0.0', 8080, 100]);
  });

  it('walks every fd again after fullWalkEvery scans, so a lower pid that gained a socket is seen', async () => {
    const s = scanner(3);
    await s.scan();
    addProcess(5, { comm: 'systemd', uid: [0, 0], exe: '/usr/lib/systemd/systemd', fds: { '40': 'socket:[1001]' } });
    expect((await s.scan()).sockets[0]?.pid).toBe(30); // remembered answer still valid
    expect((await s.scan()).sockets[0]?.pid).toBe(30);
    expect((await s.scan()).sockets[0]).toMatchObject({ pid: 5, process: 'systemd' });
  });

  it('fails loudly without the IPv4 tables, which every Linux has (only tcp6/udp6 may be missing)', async () => {
    unlinkSync(path.join(proc, 'net', 'udp'));
    await expect(scanner().scan()).rejects.toThrow(/ENOENT/);
  });

  it('reports the new owner when a process exits and another one takes its port', async () => {
    const s = scanner();
    expect((await s.scan()).sockets[2]).toMatchObject({ port: 631, pid: 250, process: 'cupsd' });
    rmSync(path.join(proc, '250'), { recursive: true });
    addProcess(260, { comm: 'nginx', uid: [33, 33], exe: '/usr/sbin/nginx', fds: { '6': 'socket:[1005]' } });
    writeTable('tcp', [...TCP.filter((r) => !r.includes(' 1002 ')), row('0100007F:0277', '00000000:0000', '0A', 1005)]);
    expect((await s.scan()).sockets[2]).toEqual({ proto: 'tcp', family: 4, address: '127.0.0.1', port: 631, pid: 260, process: 'nginx', exe: '/usr/sbin/nginx', user: 'www-data' });
  });

  it('does not carry the old name, exe or user over to a reused pid', async () => {
    const s = scanner();
    expect((await s.scan()).sockets[2]).toMatchObject({ port: 631, pid: 250, process: 'cupsd' });
    rmSync(path.join(proc, '250'), { recursive: true });
    addProcess(250, { comm: 'redis-server', uid: [0, 0], exe: '/usr/bin/redis-server', fds: { '6': 'socket:[1006]' } });
    writeTable('tcp', [...TCP.filter((r) => !r.includes(' 1002 ')), row('0100007F:18EB', '00000000:0000', '0A', 1006)]);
    const sockets = (await s.scan()).sockets;
    expect(sockets.filter((x) => x.port === 631)).toEqual([]);
    expect(sockets.find((x) => x.port === 6379)).toEqual({
      proto: 'tcp', family: 4, address: '127.0.0.1', port: 6379, pid: 250, process: 'redis-server', exe: '/usr/bin/redis-server', user: 'root',
    });
  });

  it('reports a process as it is now after it execs or changes user, socket and pid unchanged', async () => {
    const s = scanner();
    expect((await s.scan()).sockets[4]).toMatchObject({ port: 5353, pid: 400, process: 'avahi-daemon', user: '4242' });
    const dir = path.join(proc, '400');
    writeFileSync(path.join(dir, 'comm'), 'mdnsd\n');
    writeFileSync(path.join(dir, 'status'), 'Name:\tmdnsd\nUid:\t0\t33\t0\t33\n');
    unlinkSync(path.join(dir, 'exe'));
    symlinkSync('/usr/sbin/mdnsd', path.join(dir, 'exe'));
    expect((await s.scan()).sockets[4]).toEqual({ proto: 'udp', family: 4, address: '0.0.0.0', port: 5353, pid: 400, process: 'mdnsd', exe: '/usr/sbin/mdnsd', user: 'www-data' });
  });

  it('turns a remembered owner into unknown once nobody visible holds the socket', async () => {
    const s = scanner();
    expect((await s.scan()).sockets[4]?.pid).toBe(400);
    // The socket is still in the table (held by a process we may not inspect), pid 400 is gone.
    rmSync(path.join(proc, '400'), { recursive: true });
    expect((await s.scan()).sockets[4]).toEqual({ proto: 'udp', family: 4, address: '0.0.0.0', port: 5353, pid: null, process: null, exe: null, user: null });
  });

  it('does not read a table whose protocol has no socket in use, per sockstat', async () => {
    writeFileSync(path.join(proc, 'net', 'sockstat'), 'sockets: used 12\nTCP: inuse 8 orphan 0 tw 1 alloc 9 mem 2\nUDP: inuse 2 mem 0\n');
    writeFileSync(path.join(proc, 'net', 'sockstat6'), 'TCP6: inuse 0\nUDP6: inuse 0\n');
    // Were tcp6 read, its listener on :::80 would be reported.
    expect((await scanner().scan()).sockets.map((x) => x.port)).toEqual([22, 631, 4444, 5353]);
    writeFileSync(path.join(proc, 'net', 'sockstat6'), 'TCP6: inuse 1\nUDP6: inuse 0\n');
    expect((await scanner().scan()).sockets.map((x) => x.port)).toEqual([22, 80, 631, 4444, 5353]);
  });

  it('asks for the names of all owners in one getent run, and again only when the passwd file changes', async () => {
    const s = scanner();
    expect((await s.scan()).sockets[2]?.user).toBe('www-data');
    expect((await s.scan()).sockets[2]?.user).toBe('www-data');
    expect(getentRuns()).toEqual(['passwd 0 33 4242']);
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\nhttpd-user:x:33:33::/var/www:/usr/sbin/nologin\n');
    expect((await s.scan()).sockets[2]?.user).toBe('httpd-user');
    expect(getentRuns()).toHaveLength(2);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectionStateFromLsof, lsofToSockets, parseLsofFields, parseLsofName } from '../../../../../src/main/engine/collect/sockets/lsofParser';
import { CONNECTION_STATES } from '../../../../../src/main/engine/collect/sockets/types';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/lsof');
const fixture = (name: string) => readFileSync(path.join(fixtures, name), 'utf8');

describe('parseLsofFields', () => {
  it('attaches process fields to each file set and keeps the TCP state', () => {
    const files = parseLsofFields('p42\ncnginx: worker\nu33\nLwww-data\nf6\ntIPv4\nd0x1\nPTCP\nn*:80\nTST=LISTEN\nTQR=0\nTQS=0\nf7\ntIPv6\nPUDP\nn[::1]:53\n');
    expect(files).toEqual([
      { pid: 42, command: 'nginx: worker', uid: 33, login: 'www-data', fd: '6', type: 'IPv4', device: '0x1', protocol: 'TCP', name: '*:80', tcpState: 'LISTEN' },
      { pid: 42, command: 'nginx: worker', uid: 33, login: 'www-data', fd: '7', type: 'IPv6', device: null, protocol: 'UDP', name: '[::1]:53', tcpState: null },
    ]);
  });

  it('accepts NUL-terminated fields (-F0) and ignores fields it does not know', () => {
    const files = parseLsofFields('p7\0g7\0R1\0cx\0u0\0\nf3\0au\0l \0tIPv4\0PTCP\0n*:1\0TST=LISTEN\0\n');
    expect(files).toMatchObject([{ pid: 7, command: 'x', uid: 0, fd: '3', type: 'IPv4', name: '*:1', tcpState: 'LISTEN' }]);
  });
});

describe('parseLsofName', () => {
  it('reads wildcard, IPv4, bracketed IPv6 with zone, and connected names', () => {
    expect(parseLsofName('*:4444', 4)).toEqual({ local: { address: '0.0.0.0', port: 4444 }, remote: null });
    expect(parseLsofName('*:4444', 6)).toEqual({ local: { address: '::', port: 4444 }, remote: null });
    expect(parseLsofName('127.0.0.1:631', 4)).toEqual({ local: { address: '127.0.0.1', port: 631 }, remote: null });
    expect(parseLsofName('[::1]:5432', 6)).toEqual({ local: { address: '::1', port: 5432 }, remote: null });
    expect(parseLsofName('[fe80::1%lo0]:123->[fe80::2%lo0]:50000', 6)).toEqual({
      local: { address: 'fe80::1%lo0', port: 123 },
      remote: { address: 'fe80::2%lo0', port: 50000 },
    });
    expect(parseLsofName('*:*', 4)).toEqual({ local: { address: '0.0.0.0', port: null }, remote: null });
    expect(parseLsofName('127.0.0.1:631 (LISTEN)', 4).local).toEqual({ address: '127.0.0.1', port: 631 });
  });

  it('gives an IPv4-mapped address on an IPv6 socket its ::ffff: prefix back, as /proc shows it', () => {
    expect(parseLsofName('127.0.0.1:8005', 6).local).toEqual({ address: '::ffff:127.0.0.1', port: 8005 });
  });

  it('rejects names it cannot read rather than inventing an endpoint', () => {
    expect(parseLsofName('garbage', 4).local).toBeNull();
    expect(parseLsofName('[::1:5432', 6).local).toBeNull();
    expect(parseLsofName('1.2.3.4:http', 4).local).toBeNull();
  });
});

describe('lsofToSockets on a macOS listing', () => {
  // Hand-written in lsof's documented -F format, shaped after `sudo lsof -nP -w +c 0 -Ts
  // -FpcuLfdtPnT -i` on macOS 14 (macOS cannot run here, so it is not a live recording).
  const { sockets, connections } = lsofToSockets(parseLsofFields(fixture('macos-sonoma-sudo.txt')));
  const row = (s: (typeof sockets)[number]) => `${s.proto} ${s.family} ${s.address} ${s.port} ${s.pid} ${s.process} ${s.user}`;

  it('lists listening TCP and bound UDP sockets once each, a shared one under its lowest pid', () => {
    expect(sockets.map(row)).toEqual([
      'tcp 4 0.0.0.0 22 1 launchd root',
      'tcp 6 :: 22 1 launchd root',
      'tcp 6 :: 80 410 httpd root',
      'tcp 6 :: 3000 2301 node alice',
      'tcp 4 0.0.0.0 4444 3110 nc alice',
      'tcp 4 0.0.0.0 5000 644 ControlCenter alice',
      'tcp 4 127.0.0.1 5432 1201 postgres alice',
      'tcp 6 ::1 5432 1201 postgres alice',
      'tcp 4 0.0.0.0 7000 644 ControlCenter alice',
      'tcp 6 :: 7000 644 ControlCenter alice',
      'tcp 4 0.0.0.0 8000 6001 Python 502',
      'tcp 6 ::ffff:127.0.0.1 8005 2890 java alice',
      'tcp 4 0.0.0.0 49152 512 rapportd alice',
      'tcp 6 :: 49152 512 rapportd alice',
      'udp 4 0.0.0.0 5353 231 mDNSResponder _mdnsresponder',
      'udp 6 :: 5353 231 mDNSResponder _mdnsresponder',
    ]);
    expect(sockets.every((s) => s.exe === null)).toBe(true);
  });

  it('counts ESTABLISHED TCP and connected UDP by remote port, not CLOSE_WAIT or SYN_SENT', () => {
    expect(connections).toEqual([
      { proto: 'tcp', remotePortClass: 'well-known', count: 3 },
      { proto: 'tcp', remotePortClass: 'registered', count: 1 },
      { proto: 'tcp', remotePortClass: 'dynamic', count: 1 },
      { proto: 'udp', remotePortClass: 'well-known', count: 2 },
      { proto: 'udp', remotePortClass: 'registered', count: 0 },
      { proto: 'udp', remotePortClass: 'dynamic', count: 0 },
    ]);
  });

  it('keeps the lowest pid whatever order lsof lists the sharers in', () => {
    const shared = (pid: number) => `p${pid}\nchttpd\nu0\nLroot\nf4\ntIPv6\nd0xabc\nPTCP\nn*:80\nTST=LISTEN\n`;
    expect(lsofToSockets(parseLsofFields(shared(415) + shared(410))).sockets.map((s) => s.pid)).toEqual([410]);
    // Without a device there is no proof two entries are one socket: both stay.
    const noDevice = (pid: number) => `p${pid}\nchttpd\nf4\ntIPv4\nPTCP\nn*:80\nTST=LISTEN\n`;
    expect(lsofToSockets(parseLsofFields(noDevice(415) + noDevice(410))).sockets.map((s) => s.pid)).toEqual([410, 415]);
  });
});

describe('lsofToSockets on a real lsof recording', () => {
  // Recorded on this Debian 12 machine (lsof 4.95) with the same arguments, for a node process
  // whose sockets `ss -Htuanp` listed at the same moment (pid 14199).
  it('matches what ss saw for the same process', () => {
    const { sockets, connections } = lsofToSockets(parseLsofFields(fixture('debian12-lsof-4.95-recorded.txt')));
    expect(sockets.map((s) => `${s.proto} ${s.address}:${s.port}`)).toEqual([
      'tcp 127.0.0.1:34081',
      'tcp ::1:34321',
      'tcp :::35149',
      'tcp 127.0.0.1:36605',
      'tcp 0.0.0.0:36785',
      'tcp :::42665',
      'tcp ::ffff:127.0.0.1:46597',
      'udp :::39431',
      'udp 127.0.0.1:45369',
      'udp ::1:58251',
    ]);
    expect(new Set(sockets.map((s) => `${s.pid} ${s.process} ${s.user}`))).toEqual(new Set(['14199 node root']));
    expect(connections.filter((c) => c.count > 0)).toEqual([
      { proto: 'tcp', remotePortClass: 'registered', count: 2 },
      { proto: 'udp', remotePortClass: 'well-known', count: 2 },
    ]);
  });
});

describe('lsofToSockets connections on a macOS listing', () => {
  // Hand-written in lsof's -F format like macos-sonoma-sudo.txt: a browser helper with IPv4 and
  // IPv6 connections in several states, a DNS client, ssh out, an sshd session holding the
  // socket launchd accepted (in the root and the user process), and curl talking to a local node.
  const { sockets, connected, connections } = lsofToSockets(parseLsofFields(fixture('macos-sonoma-connections.txt')));
  const chrome = { pid: 4021, process: 'Google Chrome Helper', exe: null, user: 'alice' };
  const mdns = { pid: 231, process: 'mDNSResponder', exe: null, user: '_mdnsresponder' };
  const laptop6 = '2a01:e0a:1f3:9a40:8d1:2c3e:4f5a:6b7c';

  it('lists every connection once, in compareConnections order, with its owner', () => {
    expect(connected).toEqual([
      { proto: 'tcp', family: 4, localAddress: '192.168.1.23', localPort: 50310, remoteAddress: '140.82.112.25', remotePort: 443, state: 'close-wait', ...chrome },
      { proto: 'tcp', family: 4, localAddress: '192.168.1.23', localPort: 50123, remoteAddress: '142.250.74.78', remotePort: 443, state: 'established', ...chrome },
      { proto: 'tcp', family: 4, localAddress: '192.168.1.23', localPort: 50399, remoteAddress: '151.101.1.69', remotePort: 443, state: 'syn-sent', ...chrome },
      { proto: 'tcp', family: 4, localAddress: '192.168.1.23', localPort: 50290, remoteAddress: '17.253.53.207', remotePort: 443, state: 'fin-wait-1', ...chrome },
      // No login name for uid 502: the uid as text, not a guess.
      { proto: 'tcp', family: 4, localAddress: '192.168.1.23', localPort: 50555, remoteAddress: '192.168.1.10', remotePort: 22, state: 'established', pid: 5120, process: 'ssh', exe: null, user: '502' },
      { proto: 'tcp', family: 6, localAddress: laptop6, localPort: 50210, remoteAddress: '2606:4700::6810:84e5', remotePort: 443, state: 'established', ...chrome },
      { proto: 'tcp', family: 6, localAddress: laptop6, localPort: 50200, remoteAddress: '2a00:1450:4007:80e::200e', remotePort: 443, state: 'established', ...chrome },
      // Both ends of a loopback connection: curl's socket and the one node accepted.
      { proto: 'tcp', family: 6, localAddress: '::1', localPort: 50744, remoteAddress: '::1', remotePort: 3000, state: 'established', pid: 7001, process: 'curl', exe: null, user: 'alice' },
      { proto: 'tcp', family: 6, localAddress: '::1', localPort: 3000, remoteAddress: '::1', remotePort: 50744, state: 'established', pid: 2301, process: 'node', exe: null, user: 'alice' },
      // Accepted on launchd's dual-stack listener from an IPv4 peer: IPv4-mapped on an IPv6
      // socket; held by sshd 7710 (root) and 7712 (alice), one socket under the lowest pid.
      { proto: 'tcp', family: 6, localAddress: '::ffff:192.168.1.23', localPort: 22, remoteAddress: '::ffff:192.168.1.40', remotePort: 51514, state: 'established', pid: 7710, process: 'sshd', exe: null, user: 'root' },
      { proto: 'udp', family: 4, localAddress: '192.168.1.23', localPort: 61234, remoteAddress: '142.250.74.78', remotePort: 443, state: 'connected', ...chrome },
      { proto: 'udp', family: 4, localAddress: '192.168.1.23', localPort: 53288, remoteAddress: '192.168.1.1', remotePort: 53, state: 'connected', ...mdns },
      { proto: 'udp', family: 6, localAddress: laptop6, localPort: 61002, remoteAddress: '2a01:e0a:1f3:9a40::1', remotePort: 53, state: 'connected', ...mdns },
    ]);
  });

  it('leaves out TIME_WAIT, CLOSED, listeners and unbound sockets', () => {
    const remotes = connected.map((c) => c.remoteAddress);
    expect(remotes).not.toContain('104.16.132.229'); // TIME_WAIT
    expect(remotes).not.toContain('203.0.113.9'); // CLOSED
    expect(connected.filter((c) => c.pid === 7712)).toEqual([]);
    expect(sockets.map((s) => `${s.proto} ${s.family} ${s.address} ${s.port} ${s.pid}`)).toEqual([
      'tcp 4 0.0.0.0 22 1',
      'tcp 6 :: 22 1',
      'tcp 6 :: 3000 2301',
      'udp 4 0.0.0.0 5353 231',
    ]);
  });

  it('counts only ESTABLISHED TCP and connected UDP, as Snapshot.connections always has', () => {
    expect(connections).toEqual([
      { proto: 'tcp', remotePortClass: 'well-known', count: 4 },
      { proto: 'tcp', remotePortClass: 'registered', count: 1 },
      { proto: 'tcp', remotePortClass: 'dynamic', count: 2 },
      { proto: 'udp', remotePortClass: 'well-known', count: 3 },
      { proto: 'udp', remotePortClass: 'registered', count: 0 },
      { proto: 'udp', remotePortClass: 'dynamic', count: 0 },
    ]);
  });

  it('keeps a shared connection under the lowest pid whatever order lsof lists the sharers in', () => {
    const shared = (pid: number) => `p${pid}\ncsshd\nu0\nf4\ntIPv4\nd0xdef\nPTCP\nn10.0.0.2:22->10.0.0.9:50000\nTST=ESTABLISHED\n`;
    expect(lsofToSockets(parseLsofFields(shared(7712) + shared(7710))).connected.map((c) => c.pid)).toEqual([7710]);
  });

  it('skips a connection whose remote port lsof does not know', () => {
    const text = 'p9\ncx\nf3\ntIPv4\nd0x1\nPUDP\nn10.0.0.2:5000->10.0.0.9:*\nf4\ntIPv4\nd0x2\nPTCP\nn10.0.0.2:5001->10.0.0.9:*\nTST=SYN_SENT\n';
    expect(lsofToSockets(parseLsofFields(text)).connected).toEqual([]);
  });
});

describe('connectionStateFromLsof', () => {
  it("maps macOS's and Linux's lsof state names to the recorded states", () => {
    const names: Array<[string, string]> = [
      ['SYN_SENT', 'syn-sent'],
      ['SYN_RCVD', 'syn-recv'],
      ['SYN_RECEIVED', 'syn-recv'],
      ['SYN_RECV', 'syn-recv'],
      ['ESTABLISHED', 'established'],
      ['FIN_WAIT_1', 'fin-wait-1'],
      ['FIN_WAIT1', 'fin-wait-1'],
      ['FIN_WAIT_2', 'fin-wait-2'],
      ['FIN_WAIT2', 'fin-wait-2'],
      ['CLOSE_WAIT', 'close-wait'],
      ['LAST_ACK', 'last-ack'],
      ['CLOSING', 'closing'],
    ];
    for (const [name, state] of names) expect(connectionStateFromLsof(name)).toBe(state);
    expect(new Set(names.map(([, state]) => state))).toEqual(new Set(CONNECTION_STATES.filter((s) => s !== 'connected')));
  });

  it('records no state for LISTEN, TIME_WAIT, CLOSED or a name it does not know', () => {
    for (const name of ['LISTEN', 'TIME_WAIT', 'CLOSED', 'CLOSE', 'UNKNOWN_TCP_STATE_12', '']) expect(connectionStateFromLsof(name)).toBeNull();
  });
});

describe('lsofToSockets connections on the real lsof recording', () => {
  it('gives both ends of the loopback connection and the connected UDP sockets', () => {
    const { connected } = lsofToSockets(parseLsofFields(fixture('debian12-lsof-4.95-recorded.txt')));
    expect(connected.map((c) => `${c.proto} ${c.localAddress}:${c.localPort} ${c.remoteAddress}:${c.remotePort} ${c.state} ${c.pid} ${c.process} ${c.user}`)).toEqual([
      'tcp 127.0.0.1:35508 127.0.0.1:34081 established 14199 node root',
      'tcp 127.0.0.1:34081 127.0.0.1:35508 established 14199 node root',
      'udp 127.0.0.1:36012 127.0.0.1:53 connected 14199 node root',
      'udp ::1:35771 ::1:53 connected 14199 node root',
    ]);
  });
});

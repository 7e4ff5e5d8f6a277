import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { STATE_CLOSE, STATE_ESTABLISHED, STATE_LISTEN, formatIPv6, hexWordsToBytes, parseProcNet, parseSockstatInUse } from '../../../../../src/main/engine/collect/sockets/procNet';

// Captured from this machine's /proc/net while a node process held the sockets that `ss -Htuanp`
// printed as 127.0.0.1:36313, 0.0.0.0:42023, [::ffff:127.0.0.1]:40303, [::1]:41635, *:34597,
// [::]:34655, udp 127.0.0.1:59511, [::1]:39326, *:48808 and two connected UDP sockets; a
// TIME_WAIT row (inode 0) and a non-root socket (uid 1000) were added by hand.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 0100007F:8DD9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 15640 1 00000000b2d16425 100 0 0 10 0                     
   1: 00000000:A427 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 15645 1 0000000077e3d509 100 0 0 10 0                     
   4: 0100007F:AED6 0100007F:B6BF 01 00000000:00000000 00:00000000 00000000     0        0 15652 2 00000000f2495ef2 20 0 0 10 -1                     
   5: 0100007F:AED8 0100007F:B6BF 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:9D6F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 15644 1 00000000f2e441a7 100 0 0 10 0
   1: 00000000000000000000000001000000:A2A3 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 15643 1 00000000e6fb7b86 100 0 0 10 0
   2: 00000000000000000000000000000000:875F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 15642 1 000000009ffe21de 100 0 0 10 0
`;
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
 8018: 0100007F:DCB8 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 15649 2 000000005292645e 0         
11025: 0100007F:E877 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 15646 2 00000000a80e1980 0         
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  322: 00000000000000000000000000000000:BEA8 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 15648 2 00000000437e77d6 0
 7224: 00000000000000000000000001000000:999E 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 15647 2 0000000072273ea2 0
 8349: 00000000000000000000000001000000:9E03 00000000000000000000000001000000:0035 01 00000000:00000000 00:00000000 00000000     0        0 15650 2 00000000836557d4 0
`;

const brief = (rows: ReturnType<typeof parseProcNet>) =>
  rows.map((r) => [`${r.localAddress}:${r.localPort}`, `${r.remoteAddress}:${r.remotePort}`, r.state, r.inode]);

describe('parseProcNet', () => {
  it('reads IPv4 TCP rows: little-endian addresses, plain hex ports, states, uid and inode', () => {
    const rows = parseProcNet(TCP, 4);
    expect(brief(rows)).toEqual([
      ['127.0.0.1:36313', '0.0.0.0:0', STATE_LISTEN, 15640],
      ['0.0.0.0:42023', '0.0.0.0:0', STATE_LISTEN, 15645],
      ['127.0.0.1:44758', '127.0.0.1:46783', STATE_ESTABLISHED, 15652],
      ['127.0.0.1:44760', '127.0.0.1:46783', 0x06, 0],
    ]);
    expect(rows.map((r) => r.uid)).toEqual([0, 1000, 0, 0]);
    expect(rows.every((r) => r.family === 4)).toBe(true);
  });

  it('prints IPv6 the way ss does: ::, ::1 and ::ffff:127.0.0.1', () => {
    expect(brief(parseProcNet(TCP6, 6))).toEqual([
      ['::ffff:127.0.0.1:40303', ':::0', STATE_LISTEN, 15644],
      ['::1:41635', ':::0', STATE_LISTEN, 15643],
      [':::34655', ':::0', STATE_LISTEN, 15642],
    ]);
  });

  it('reads UDP: 07 is bound and unconnected, 01 connected', () => {
    expect(brief(parseProcNet(UDP, 4))).toEqual([
      ['127.0.0.1:56504', '127.0.0.1:53', STATE_ESTABLISHED, 15649],
      ['127.0.0.1:59511', '0.0.0.0:0', STATE_CLOSE, 15646],
    ]);
    expect(brief(parseProcNet(UDP6, 6))).toEqual([
      [':::48808', ':::0', STATE_CLOSE, 15648],
      ['::1:39326', ':::0', STATE_CLOSE, 15647],
      ['::1:40451', '::1:53', STATE_ESTABLISHED, 15650],
    ]);
  });

  it('decodes global and link-local IPv6 addresses', () => {
    const row = (local: string) =>
      `  sl  local_address remote_address st\n   0: ${local}:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 77 1\n`;
    expect(parseProcNet(row('B80D0120000000000000000001000000'), 6)[0]?.localAddress).toBe('2001:db8::1');
    expect(parseProcNet(row('000080FE00000000FF3D2B1C605F4EFE'), 6)[0]?.localAddress).toBe('fe80::1c2b:3dff:fe4e:5f60');
  });

  it('reads words written by a big-endian kernel when told so', () => {
    expect(Array.from(hexWordsToBytes('7F000001', false))).toEqual([127, 0, 0, 1]);
    expect(Array.from(hexWordsToBytes('0100007F', true))).toEqual([127, 0, 0, 1]);
    const be = `  sl  local_address rem_address st\n   0: 7F000001:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 9 1\n`;
    expect(parseProcNet(be, 4, false)[0]?.localAddress).toBe('127.0.0.1');
  });

  it('skips the header, blank lines and malformed rows instead of failing the scan', () => {
    const text = `${TCP.split('\n')[0]}\n\n   0: nonsense\n   1: 0100007F:ZZZZ 00000000:0000 0A 0:0 0:0 0 0 0 1 1\n   2: 0100:0016 00000000:0000 0A 0:0 0:0 0 0 0 1 1\n${TCP.split('\n')[1]}\n`;
    expect(brief(parseProcNet(text, 4))).toEqual([['127.0.0.1:36313', '0.0.0.0:0', STATE_LISTEN, 15640]]);
    expect(parseProcNet('', 6)).toEqual([]);
  });
});

describe('parseSockstatInUse', () => {
  it('reads the in-use count of each protocol from sockstat and sockstat6', () => {
    const text = `sockets: used 14
TCP: inuse 3 orphan 0 tw 2 alloc 5 mem 171
UDP: inuse 0 mem 0
UDPLITE: inuse 0
RAW: inuse 0
FRAG: inuse 0 memory 0
TCP6: inuse 12
UDP6: inuse 1
FRAG6: inuse 0 memory 0
`;
    const inUse = parseSockstatInUse(text);
    expect([inUse.get('TCP'), inUse.get('UDP'), inUse.get('TCP6'), inUse.get('UDP6')]).toEqual([3, 0, 12, 1]);
    expect(inUse.has('sockets')).toBe(false);
    expect(parseSockstatInUse('').size).toBe(0);
  });
});

describe('formatIPv6', () => {
  it('compresses only the first longest run of two or more zero words', () => {
    const words = (...w: number[]) => w.flatMap((x) => [x >> 8, x & 0xff]);
    expect(formatIPv6(words(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1))).toBe('2001:db8::1:0:0:1');
    expect(formatIPv6(words(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIPv6(words(1, 0, 0, 0, 0, 0, 0, 0))).toBe('1::');
    expect(formatIPv6(words(0, 0, 0, 0, 0, 0, 0x102, 0x304))).toBe('::1.2.3.4');
    expect(formatIPv6(words(0, 0, 0, 0, 0, 0, 0, 0x100))).toBe('::100');
  });

  it('agrees with libuv inet_ntop (Node) on 2,000 random zero-heavy addresses', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 2000; n++) {
      const words = Array.from({ length: 8 }, (_, i) => (i === 5 && rand() < 0.2 ? 0xffff : rand() < 0.55 ? 0 : Math.floor(rand() * 0x10000)));
      const bytes = words.flatMap((x) => [x >> 8, x & 0xff]);
      const expected = new net.SocketAddress({ address: words.map((w) => w.toString(16)).join(':'), family: 'ipv6' }).address;
      expect(formatIPv6(bytes)).toBe(expected);
    }
  });
});

import net from 'node:net';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6 } from '../../../../../src/main/engine/collect/capture/ipAddress';
import { ipv6Bytes } from './support/packets';
import { randomInt, seededRandom } from '../../../../../src/shared/random';

/** libuv's inet_ntop, the formatter behind os.networkInterfaces(), used as the reference. */
function libuvText(groups: number[]): string {
  return new net.SocketAddress({ address: groups.map((g) => g.toString(16)).join(':'), family: 'ipv6' }).address;
}

describe('IP address text', () => {
  it('IPv4 dotted quad at an offset', () => {
    expect(formatIPv4(Buffer.from([9, 192, 0, 2, 255]), 1)).toBe('192.0.2.255');
  });

  it('IPv6 edge cases match libuv (RFC 5952 compression, dotted IPv4-mapped/compatible tails)', () => {
    const cases = ['::', '::1', '::2', '1::', 'fe80::1', '2001:db8::2:1', '1:0:0:1:0:0:0:1', '1:0:0:0:1:0:0:1', '1:0:1:0:1:0:1:0', '::ffff:1.2.3.4', '::1.2.3.4', '::ffff:0:102:304', '64:ff9b::102:304', 'ff02::1:ff00:2'];
    for (const text of cases) {
      const bytes = ipv6Bytes(text.includes('.') ? text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`) : text);
      const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
      expect(formatIPv6(bytes, 0), text).toBe(libuvText(groups));
    }
  });

  it('IPv6: 20,000 random addresses with runs of zeros match libuv', () => {
    const rand = seededRandom(0x5eed);
    const buf = Buffer.alloc(20);
    for (let n = 0; n < 20_000; n++) {
      const groups = Array.from({ length: 8 }, () => (rand() < 0.5 ? 0 : rand() < 0.1 ? 0xffff : randomInt(rand, 0x10000)));
      groups.forEach((g, i) => buf.writeUInt16BE(g, 4 + i * 2));
      expect(formatIPv6(buf, 4)).toBe(libuvText(groups));
    }
  });

  it("the machine's own IPv6 addresses print exactly as os.networkInterfaces() reports them", () => {
    const own = Object.values(os.networkInterfaces()).flatMap((infos) => infos ?? []).filter((i) => i.family === 'IPv6');
    for (const info of own) expect(formatIPv6(ipv6Bytes(info.address), 0)).toBe(info.address);
  });
});

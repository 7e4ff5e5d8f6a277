import { describe, expect, it } from 'vitest';
import { createSocketScanner } from '../../../../../src/main/engine/collect/sockets';
import { LinuxSocketScanner } from '../../../../../src/main/engine/collect/sockets/linuxSockets';
import { MacSocketScanner } from '../../../../../src/main/engine/collect/sockets/macSockets';

describe('createSocketScanner', () => {
  it('picks the scanner for Linux and macOS', () => {
    expect(createSocketScanner('linux')).toBeInstanceOf(LinuxSocketScanner);
    expect(createSocketScanner('darwin')).toBeInstanceOf(MacSocketScanner);
  });

  it('refuses other platforms with a message that names the platform', () => {
    expect(() => createSocketScanner('win32')).toThrow('Portent cannot scan sockets on platform "win32": only Linux and macOS are supported.');
  });

  it.skipIf(process.platform !== 'linux')('defaults to this machine, whose scan is a well-formed snapshot', async () => {
    const before = Date.now();
    const snap = await createSocketScanner().scan();
    expect(snap.takenAt).toBeGreaterThanOrEqual(before);
    expect(snap.connections.map((c) => `${c.proto}/${c.remotePortClass}`)).toEqual([
      'tcp/well-known', 'tcp/registered', 'tcp/dynamic', 'udp/well-known', 'udp/registered', 'udp/dynamic',
    ]);
    for (const s of snap.sockets) {
      expect(s.port).toBeGreaterThan(0);
      expect(s.family === 4 ? s.address.includes('.') : s.address.includes(':')).toBe(true);
    }
  });
});

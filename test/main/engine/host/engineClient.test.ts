/**
 * The engine in its own thread, reached through the contract's handlers: a real worker thread,
 * a real SQLite file, real rounds of this machine's sockets, and (where this process may
 * capture) a real capture process started by the hosting thread on the engine's behalf.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forkLauncher, type ChildLauncher } from '../../../../src/main/engine/collect/capture/childLauncher';
import { EngineClient, EngineStartError } from '../../../../src/main/engine/host/engineClient';
import { tempDir } from '../../../support/tmp';
import { captureAllowed } from '../collect/capture/support/privilege';

const allowed = captureAllowed();

function nextEvent(client: EngineClient, event: 'changed'): Promise<void> {
  return new Promise((resolve) => client.once(event, () => resolve()));
}

describe('EngineClient: the engine in its own thread', () => {
  it('answers every call from its thread, pushes changes, and stops with the monitor', async () => {
    const lines: string[] = [];
    const dbPath = path.join(tempDir(), 'portent.db');
    const client = await EngineClient.start({ dbPath, roundSeconds: 1, capture: false, logLine: (l) => lines.push(l) });
    try {
      const server = net.createServer().listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const port = (server.address() as net.AddressInfo).port;
      await nextEvent(client, 'changed');
      await nextEvent(client, 'changed');
      const status = await client.handlers.getStatus();
      expect(status).toMatchObject({ monitoring: true, database: dbPath, lastRound: { status: 'ok' } });
      const now = Date.now();
      const timeline = await client.handlers.portTimeline({ from: now - 3_600_000, to: now + 1000, buckets: 60 });
      expect(timeline.ports.some((p) => p.port === port && p.proto === 'tcp')).toBe(true);
      server.close();
      // A refused setting comes back as the handler's answer, an error as a rejection.
      expect(await client.handlers.setSetting('retention.packetsDays', -3)).toMatchObject({ ok: false });
      await expect(client.handlers.getIncident(-1)).rejects.toThrow('no incident -1');
      // The log lines were written by the engine's thread, not this one.
      const started = lines.map((l) => JSON.parse(l) as { msg: string; db?: string }).find((l) => l.msg === 'monitor started');
      expect(started?.db).toBe(dbPath);
    } finally {
      await client.stop();
    }
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('monitor stopped');
    await expect(client.handlers.getStatus()).rejects.toThrow(/engine's thread ended|stopping/);
    // The database was closed: another monitor may open it.
    const again = await EngineClient.start({ dbPath, capture: false, logLine: () => {} });
    await again.stop();
  });

  it('tells its host when the engine thread ends without being asked to, and answers calls with why', async () => {
    const client = await EngineClient.start({ dbPath: path.join(tempDir(), 'portent.db'), capture: false, logLine: () => {} });
    const failed = new Promise<Error>((resolve) => client.once('failed', resolve));
    // The thread ends as a crash would end it (terminated from outside, no stop asked).
    await (client as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    expect((await failed).message).toMatch(/the engine's thread ended/);
    await expect(client.handlers.getStatus()).rejects.toThrow(/the engine's thread ended/);
    // Stopping afterwards is harmless.
    await client.stop();
  });

  it("says why it cannot start, by the engine's own error", async () => {
    const dbPath = path.join(tempDir(), 'portent.db');
    fs.writeFileSync(dbPath, 'this is not a database, and it is long enough to be read as one '.repeat(100));
    const failed = await EngineClient.start({ dbPath, capture: false, logLine: () => {} }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(EngineStartError);
    expect((failed as EngineStartError).engineError).toBe('DatabaseOpenError');
    expect((failed as EngineStartError).message).toMatch(/portent\.db/);
    // Nothing stored was touched.
    expect(fs.readFileSync(dbPath, 'utf8')).toMatch(/^this is not a database/);
  });

  it.runIf(process.platform === 'linux')(`starts the capture process from the hosting thread when asked to (${allowed.ok ? 'capture on lo' : 'capture refused: recorded as off'})`, async () => {
    const launches: string[] = [];
    const hostLauncher: ChildLauncher = (entry, options) => {
      launches.push(path.basename(entry));
      return forkLauncher(entry, options);
    };
    const dbPath = path.join(tempDir(), 'portent.db');
    const client = await EngineClient.start({ dbPath, roundSeconds: 1, capture: { iface: 'lo' }, captureLauncher: hostLauncher, captureHelper: null, logLine: () => {} });
    try {
      for (let i = 0; i < 3; i++) await nextEvent(client, 'changed');
      const status = await client.handlers.getStatus();
      expect(launches).toHaveLength(1);
      expect(launches[0]).toMatch(/^captureChild\.(ts|js)$/);
      expect(status.capture.state).toBe(allowed.ok ? 'on' : 'off');
    } finally {
      await client.stop();
    }
  });
});

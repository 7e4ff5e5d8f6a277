import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectRound } from '../../../../src/main/engine/collect/collectRound';
import { LinuxSocketScanner } from '../../../../src/main/engine/collect/sockets/linuxSockets';
import { silentLogger } from '../../../../src/main/engine/log';
import type { Db } from '../../../../src/main/engine/store/database';
import type { RoundStore } from '../../../../src/main/engine/store/rounds';
import { openTestStore } from '../../../support/db';
import { tempDir } from '../../../support/tmp';

let db: Db;
let store: RoundStore;
beforeEach(() => {
  ({ db, store } = openTestStore());
});
afterEach(() => db.close());

describe.runIf(process.platform === 'linux')('collectRound on Linux', () => {
  it('records a round holding a listener this test opened, owned by this process', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const result = await collectRound({ scanner: new LinuxSocketScanner(), store, host: 'test-host', log: silentLogger });
      expect(result.status).toBe('ok');
      const mine = store.socketsOf(result.roundId).filter((s) => s.port === port);
      expect(mine).toEqual([
        expect.objectContaining({ proto: 'tcp', family: 4, address: '127.0.0.1', port, pid: process.pid, exe: process.execPath }),
      ]);
      expect(store.rounds()[0]).toMatchObject({ id: result.roundId, host: 'test-host', status: 'ok' });
    } finally {
      server.close();
    }
  });

  it('records a failed scan as a failed round and returns instead of throwing', async () => {
    // A real scanner pointed at a folder without the kernel's tables fails the way a locked-down
    // /proc would.
    const scanner = new LinuxSocketScanner({ procRoot: path.join(tempDir(), 'no-proc') });
    const result = await collectRound({ scanner, store, host: 'test-host', log: silentLogger });
    expect(result.status).toBe('failed');
    const [round] = store.rounds();
    expect(round).toMatchObject({ status: 'failed' });
    expect(round?.error).toMatch(/no-proc/);
    expect(store.socketsOf(round!.id)).toEqual([]);
  });
});

import { RoundStore } from '../../../../src/main/engine/store/rounds';
import type { Db } from '../../../../src/main/engine/store/database';
import { countConnections, type SocketEntry } from '../../../../src/main/engine/collect/sockets/types';
import type { ModelConfig } from '../../../../src/main/engine/detect/model';

/** A model small enough for unit tests (the real default has 65,536 ports). */
export const SMALL: Partial<ModelConfig> = { ports: 1024, window: 2, blockSize: 64, groupSize: 4, blockFilters: 4, groupFilters: 8, roundUnits: 16, lstmUnits: 16, bottleneck: 8, learningRate: 0.01 };

export const MIN = 60_000;
export const T0 = new Date(2026, 2, 2, 9, 0).getTime();

export const listener = (port: number, exe = '/usr/sbin/sshd', pid = 801): SocketEntry => ({
  proto: 'tcp', family: 4, address: '0.0.0.0', port, pid, process: exe.split('/').pop()!, exe, user: 'root',
});

/** Records `n` rounds `step` apart (a minute by default) from `start`, each with the sockets `at(i)` returns. */
export function recordRounds(db: Db, start: number, n: number, at: (i: number) => SocketEntry[], step = MIN): number[] {
  const store = new RoundStore(db);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = start + i * step;
    ids.push(store.record({ host: 'h', startedAt: t, endedAt: t + 100, outcome: { sockets: at(i), connections: countConnections([]) } }));
  }
  return ids;
}

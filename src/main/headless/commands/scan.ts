import { createSocketScanner } from '../../engine/collect/sockets';
import type { Command } from '../command';
import { formatTable } from '../table';

export const scanCommand: Command = {
  name: 'scan',
  summary: "Print this machine's listening sockets with their processes, now (nothing is stored)",
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx) {
    const snapshot = await createSocketScanner().scan();
    const sockets = snapshot.sockets.map(({ proto, family, address, port, pid, process, exe, user }) => ({ proto, family, address, port, pid, process, exe, user }));
    if (ctx.values.json) {
      ctx.stdout.write(JSON.stringify(sockets, null, 2) + '\n');
      return 0;
    }
    ctx.stdout.write(
      formatTable(
        ['PROTO', 'ADDRESS', 'PORT', 'PID', 'PROCESS', 'USER', 'EXECUTABLE'],
        sockets.map((s) => [`${s.proto}${s.family}`, s.address, s.port, s.pid, s.process, s.user, s.exe]),
      ),
    );
    const unknown = sockets.filter((s) => s.pid === null).length;
    if (unknown > 0) {
      const why =
        process.getuid?.() === 0
          ? 'no process visible here holds them (a kernel socket, or a process in another PID namespace or container)'
          : 'they belong to processes this user cannot see; run as root to name them';
      ctx.stdout.write(`\n${unknown} socket(s) have no known owner: ${why}.\n`);
    }
    return 0;
  },
};

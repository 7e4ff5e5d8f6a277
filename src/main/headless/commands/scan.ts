import { createSocketScanner } from '../../engine/collect/sockets';
import type { Command } from '../command';
import { formatTable } from '../table';
import { hostPort } from '../format';

export const scanCommand: Command = {
  name: 'scan',
  summary: "Print this machine's listening sockets (with --connections, also the sockets that talk) with their processes, now (nothing is stored)",
  usage: '[--json] [--connections]',
  options: { json: { type: 'boolean' }, connections: { type: 'boolean' } },
  async run(ctx) {
    const snapshot = await createSocketScanner().scan();
    const sockets = snapshot.sockets.map(({ proto, family, address, port, pid, process, exe, user }) => ({ proto, family, address, port, pid, process, exe, user }));
    const connections = snapshot.connected.map(({ proto, family, localAddress, localPort, remoteAddress, remotePort, state, pid, process, exe, user }) => ({
      proto, family, localAddress, localPort, remoteAddress, remotePort, state, pid, process, exe, user,
    }));
    if (ctx.values.json) {
      // Without --connections the output stays the plain list of listening sockets it always was.
      ctx.stdout.write(JSON.stringify(ctx.values.connections ? { sockets, connections } : sockets, null, 2) + '\n');
      return 0;
    }
    ctx.stdout.write(
      formatTable(
        ['PROTO', 'ADDRESS', 'PORT', 'PID', 'PROCESS', 'USER', 'EXECUTABLE'],
        sockets.map((s) => [`${s.proto}${s.family}`, s.address, s.port, s.pid, s.process, s.user, s.exe]),
      ),
    );
    if (ctx.values.connections) {
      ctx.stdout.write(
        '\n' +
          formatTable(
            ['PROTO', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'PROCESS', 'USER', 'EXECUTABLE'],
            connections.map((c) => [`${c.proto}${c.family}`, hostPort(c.localAddress, c.localPort), hostPort(c.remoteAddress, c.remotePort), c.state, c.pid, c.process, c.user, c.exe]),
          ),
      );
    }
    const unknown = sockets.filter((s) => s.pid === null).length + (ctx.values.connections ? connections.filter((c) => c.pid === null).length : 0);
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

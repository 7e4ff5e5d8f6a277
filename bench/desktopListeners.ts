import type { SocketEntry } from '../src/main/engine/collect/sockets/types';
import { seededRandom } from '../src/shared/random';

/**
 * What a developer's desktop listens on beyond the quality benchmark's machine
 * (bench/quality/generator.ts), which stays the base: its system daemons, session programs, dev
 * servers and ephemeral UDP clients. Added on top, to reach the 50 to 300 listeners of a busy
 * day:
 * - containers published by docker-proxy (IPv4 and IPv6 each), all day; a container restarts now
 *   and then and its proxy gets a new pid;
 * - editor windows during the session, each with language servers and debug adapters on
 *   loopback ports the kernel numbers; a server restarts on a new port now and then;
 * - a local stack of services (IPv4 and IPv6 each) while the quality generator's dev server
 *   runs, brought down and up again on new pids;
 * - test runs that bind a burst of servers on random ports for a minute or two.
 * Rounds are asked for in time order, one a minute.
 */
const MIN = 60_000;

interface Held {
  socket: SocketEntry;
  until: number;
}

const CONTAINERS = 18;
const STACK_SERVICES = 55;
const EDITOR_SERVERS = 8;

export class DesktopListeners {
  private readonly rand: () => number;
  private readonly containerPids: number[];
  private stackPid = 0;
  private stackUp = false;
  private editors: { pid: number; until: number; ports: number[] }[] = [];
  private tests: Held[] = [];
  private nextPid = 40_000;

  constructor(seed: number) {
    this.rand = seededRandom(seed);
    this.containerPids = Array.from({ length: CONTAINERS }, () => this.pid());
  }

  private pid(): number {
    this.nextPid += 1 + Math.floor(this.rand() * 50);
    return this.nextPid;
  }

  private kernelPort(): number {
    return 32_768 + Math.floor(this.rand() * (60_999 - 32_768));
  }

  /** The extra sockets at `t`; `base` is the quality generator's round (the session and dev server are read from it). */
  at(t: number, base: readonly SocketEntry[]): SocketEntry[] {
    const inSession = base.some((s) => s.process === 'syncthing');
    const devUp = base.some((s) => s.proto === 'tcp' && s.port === 3000);
    const out: SocketEntry[] = [];
    const sock = (proto: 'tcp' | 'udp', family: 4 | 6, address: string, port: number, pid: number, process: string, exe: string, user: string): SocketEntry => ({ proto, family, address, port, pid, process, exe, user });

    // Containers: two restarts a day among them.
    for (let k = 0; k < CONTAINERS; k++) {
      if (this.rand() < 2 / CONTAINERS / 1440) this.containerPids[k] = this.pid();
      const pid = this.containerPids[k]!;
      out.push(sock('tcp', 4, '0.0.0.0', 9000 + k, pid, 'docker-proxy', '/usr/bin/docker-proxy', 'root'));
      out.push(sock('tcp', 6, '::', 9000 + k, pid, 'docker-proxy', '/usr/bin/docker-proxy', 'root'));
    }

    // Editor windows: one opens every ~45 session minutes (three at the start), lives 20 min to 4 h.
    this.editors = this.editors.filter((e) => e.until > t && inSession);
    if (inSession && (this.editors.length === 0 || this.rand() < 1 / 45)) {
      for (let n = this.editors.length === 0 ? 3 : 1; n > 0; n--) {
        const life = 20 * MIN * Math.exp(this.rand() * Math.log(12));
        this.editors.push({ pid: this.pid(), until: t + life, ports: Array.from({ length: EDITOR_SERVERS }, () => this.kernelPort()) });
      }
    }
    for (const e of this.editors) {
      e.ports = e.ports.map((p) => (this.rand() < 1 / 120 ? this.kernelPort() : p));
      for (const p of e.ports) out.push(sock('tcp', 4, '127.0.0.1', p, e.pid, 'node', '/usr/share/code/code', 'alice'));
    }

    // The local stack follows the dev server; it is restarted (new pids) about every two hours.
    if (devUp && (!this.stackUp || this.rand() < 1 / 120)) this.stackPid = this.pid();
    this.stackUp = devUp;
    if (devUp) {
      for (let k = 0; k < STACK_SERVICES; k++) {
        const pid = this.stackPid + k;
        out.push(sock('tcp', 4, '127.0.0.1', 7000 + k, pid, 'java', '/usr/lib/jvm/java-17-openjdk-amd64/bin/java', 'alice'));
        out.push(sock('tcp', 6, '::1', 7000 + k, pid, 'java', '/usr/lib/jvm/java-17-openjdk-amd64/bin/java', 'alice'));
      }
    }

    // Test runs while the dev server runs: every ~5 minutes, 20 servers for one or two rounds.
    this.tests = this.tests.filter((h) => h.until > t);
    if (devUp && this.rand() < 1 / 5) {
      const pid = this.pid();
      const until = t + (1 + Math.floor(this.rand() * 2)) * MIN;
      for (let k = 0; k < 20; k++) this.tests.push({ socket: sock('tcp', 4, '127.0.0.1', this.kernelPort(), pid, 'node', '/usr/bin/node', 'alice'), until });
    }
    for (const h of this.tests) out.push(h.socket);
    return out;
  }
}

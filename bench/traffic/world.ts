import type { ConnectionState, Proto, SocketEntry } from '../../src/main/engine/collect/sockets/types';
import type { DnsAnswer } from '../../src/main/engine/collect/capture/dns';
import type { Draw } from './draw';

/**
 * The simulated machine and the internet it talks to. Every address is a documentation address
 * (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) or on the home LAN
 * (192.168.1.0/24); every name is under example.com/.net/.org or .test.
 */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const HOST = 'desktop';
export const IFACE = 'enp3s0';
export const LOCAL_V4 = '192.168.1.10';
export const LOCAL_V6 = '2001:db8:1:0:2a0:c9ff:fe14:7b3e';
export const ROUTER = '192.168.1.1';
export const LAPTOP = '192.168.1.23';
export const PHONE = '192.168.1.31';
export const PRINTER = '192.168.1.40';
export const TV = '192.168.1.50';
export const STUB = '127.0.0.53';
export const MDNS_GROUP = '224.0.0.251';
export const SSDP_GROUP = '239.255.255.250';

export interface Owner {
  pid: number;
  process: string;
  exe: string;
  user: string;
}

const owner = (pid: number, process: string, exe: string, user: string): Owner => ({ pid, process, exe, user });

export const FIREFOX = owner(2411, 'firefox', '/usr/lib/firefox/firefox', 'alice');
export const CHAT = owner(3120, 'slack', '/usr/lib/slack/slack', 'alice');
export const SYNC = owner(2790, 'nextcloud', '/usr/bin/nextcloud', 'alice');
export const RESOLVER = owner(612, 'systemd-resolve', '/usr/lib/systemd/systemd-resolved', 'systemd-resolve');
export const CHRONY = owner(655, 'chronyd', '/usr/sbin/chronyd', '_chrony');
export const NETWORK_MANAGER = owner(598, 'NetworkManager', '/usr/sbin/NetworkManager', 'root');
export const AVAHI = owner(700, 'avahi-daemon', '/usr/sbin/avahi-daemon', 'avahi');
export const SSHD = owner(901, 'sshd', '/usr/sbin/sshd', 'root');
export const CUPSD = owner(780, 'cupsd', '/usr/sbin/cupsd', 'root');
/** Programs started anew each time: their pid comes from `Pids`. */
export const APT_HTTP = { process: 'http', exe: '/usr/lib/apt/methods/http', user: '_apt' };
export const RESTIC = { process: 'restic', exe: '/usr/bin/restic', user: 'root' };
export const SSH = { process: 'ssh', exe: '/usr/bin/ssh', user: 'alice' };

/** Pids for programs started during the week, rising like a kernel's. */
export class Pids {
  private last = 40_000;

  constructor(private readonly draw: Draw) {}

  next(): number {
    this.last += this.draw.int(3, 600);
    return this.last;
  }

  of(p: { process: string; exe: string; user: string }): Owner {
    return { pid: this.next(), ...p };
  }
}

/** The listening sockets, the same in every round. */
export function listeners(): SocketEntry[] {
  const s = (proto: Proto, family: 4 | 6, address: string, port: number, o: Owner): SocketEntry => ({ proto, family, address, port, pid: o.pid, process: o.process, exe: o.exe, user: o.user });
  return [
    s('tcp', 4, '0.0.0.0', 22, SSHD),
    s('tcp', 6, '::', 22, SSHD),
    s('tcp', 4, STUB, 53, RESOLVER),
    s('tcp', 4, '127.0.0.54', 53, RESOLVER),
    s('tcp', 4, '127.0.0.1', 631, CUPSD),
    s('tcp', 6, '::1', 631, CUPSD),
    s('udp', 4, '0.0.0.0', 68, NETWORK_MANAGER),
    s('udp', 4, STUB, 53, RESOLVER),
    s('udp', 4, '127.0.0.54', 53, RESOLVER),
    s('udp', 4, '127.0.0.1', 323, CHRONY),
    s('udp', 6, '::1', 323, CHRONY),
    s('udp', 4, '0.0.0.0', 5353, AVAHI),
    s('udp', 6, '::', 5353, AVAHI),
  ];
}

/** A name on the internet: its addresses, or the CDN name it is an alias of. */
export interface Host {
  name: string;
  v4: string[];
  v6: string[];
  /** CNAME target, shown in the answers before the addresses. */
  cname: string | null;
  /** Seconds the resolver may cache the answer. */
  ttl: number;
  /** Speaks HTTP/3 (QUIC over UDP 443). */
  quic: boolean;
}

/**
 * Documentation addresses handed out to hosts. The IPv4 space is small (762 addresses), so it is
 * shuffled once and dealt from the front to legitimate hosts and from the back to the incidents':
 * an attacker's address is never one the machine talked to, before or after, and nothing in its
 * range gives it away. IPv6 addresses are drawn in 2001:db8::/32 and never repeat.
 */
export class AddressPool {
  private readonly v4: string[];
  private front = 0;
  private back: number;
  private readonly used6 = new Set<string>();

  constructor(private readonly draw: Draw) {
    const all: string[] = [];
    for (const net of ['192.0.2', '198.51.100', '203.0.113']) for (let i = 1; i <= 254; i++) all.push(`${net}.${i}`);
    this.v4 = draw.shuffled(all);
    this.back = this.v4.length - 1;
  }

  /** An IPv4 address for a legitimate host, or null once the legitimate share is used up. */
  legit4(): string | null {
    return this.front < this.back - 40 ? this.v4[this.front++]! : null;
  }

  /** An IPv4 address no legitimate host will ever get. */
  reserved4(): string {
    if (this.back <= this.front) throw new Error('address pool exhausted');
    return this.v4[this.back--]!;
  }

  v6(): string {
    for (;;) {
      const g = () => this.draw.int(1, 0xffff).toString(16);
      const a = `2001:db8:${g()}:${g()}::${g()}`;
      if (!this.used6.has(a)) {
        this.used6.add(a);
        return a;
      }
    }
  }
}

/** Every name the machine may resolve, by name. */
export class Internet {
  readonly hosts = new Map<string, Host>();
  /** Names the home router's blocklist answers with NXDOMAIN (ad and tracker hosts). */
  readonly blocked = new Set<string>();

  constructor(
    readonly pool: AddressPool,
    private readonly draw: Draw,
  ) {}

  /** A host with its own addresses. */
  add(name: string, o: { v4?: number; v6?: number; ttl?: number; quic?: boolean; reserved?: boolean } = {}): Host {
    const known = this.hosts.get(name);
    if (known) return known;
    const v4: string[] = [];
    for (let i = 0; i < (o.v4 ?? 1); i++) {
      const a = o.reserved ? this.pool.reserved4() : this.pool.legit4();
      if (a) v4.push(a);
    }
    const v6 = Array.from({ length: o.v6 ?? 0 }, () => this.pool.v6());
    if (v4.length === 0 && v6.length === 0) v6.push(this.pool.v6());
    const host: Host = { name, v4, v6, cname: null, ttl: o.ttl ?? this.draw.pick([60, 300, 300, 600, 3600]), quic: o.quic ?? false };
    this.hosts.set(name, host);
    return host;
  }

  /** A name that is an alias of a CDN edge: it answers with the edge's addresses. */
  alias(name: string, edge: Host): Host {
    const known = this.hosts.get(name);
    if (known) return known;
    const host: Host = { name, v4: edge.v4, v6: edge.v6, cname: edge.name, ttl: Math.min(edge.ttl, 300), quic: edge.quic };
    this.hosts.set(name, host);
    return host;
  }

  /** The resolver's answer for an A and an AAAA question about `name`. */
  answer(name: string): { rcode: string; a: DnsAnswer[]; aaaa: DnsAnswer[]; ttl: number } {
    const h = this.hosts.get(name);
    if (!h || this.blocked.has(name)) return { rcode: 'NXDOMAIN', a: [], aaaa: [], ttl: 300 };
    const chain: DnsAnswer[] = h.cname ? [{ name, type: 'CNAME', data: h.cname }] : [];
    const owner = h.cname ?? name;
    return {
      rcode: 'NOERROR',
      a: h.v4.length ? [...chain, ...h.v4.map((data): DnsAnswer => ({ name: owner, type: 'A', data }))] : [],
      aaaa: h.v6.length ? [...chain, ...h.v6.map((data): DnsAnswer => ({ name: owner, type: 'AAAA', data }))] : [],
      ttl: h.ttl,
    };
  }
}

/**
 * One socket that talks, over its life: in the socket table from `start` to `end` (then in
 * `tail`'s state until its end), carrying `ex` exchanges (time, bytes out, bytes in, flattened)
 * and `bulk` steady transfers (from, to, bytes out, bytes in, flattened). Bytes are payload;
 * headers, handshakes and acknowledgements are added when the round's flows are made.
 */
export interface Conn {
  owner: Owner;
  proto: Proto;
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** 'out': this machine opened it; 'in': a listener accepted it. */
  opened: 'out' | 'in';
  start: number;
  end: number;
  tail: { state: ConnectionState; until: number } | null;
  ex: number[];
  bulk: number[];
  /** Loopback connections are in the socket table but never on the captured interface. */
  loopback: boolean;
}

/** An application's lookup through the system resolver (stub on 127.0.0.53). */
export interface Lookup {
  t: number;
  name: string;
  /** Questions other than A+AAAA (TXT for a tunnel), with the answer the authority gives. */
  custom?: { qtype: string; rcode: string; answers: DnsAnswer[] };
}

/**
 * A DNS transaction on the wire: from this machine's `localPort` to `server`:53, question(s)
 * and answer(s); the resolver's cache decides which lookups become one.
 */
export interface DnsTransaction {
  t: number;
  rtt: number;
  localPort: number;
  server: string;
  name: string;
  qtypes: string[];
  rcode: string;
  /** Per question, the answers of its response. */
  answers: DnsAnswer[][];
}

/** Packets on the wire with no socket of their own in this machine's tables (or not for long). */
export interface RawFlow {
  t: number;
  proto: string;
  direction: 'outbound' | 'inbound';
  localAddr: string;
  localPort: number | null;
  remoteAddr: string;
  remotePort: number | null;
  packets: number;
  bytes: number;
  flags: number;
}

/** Everything the week is made of, before it is cut into rounds. */
export class Traffic {
  readonly conns: Conn[] = [];
  readonly lookups: Lookup[] = [];
  readonly transactions: DnsTransaction[] = [];
  readonly raw: RawFlow[] = [];

  constructor(private readonly draw: Draw) {}

  ephemeralPort(): number {
    return this.draw.int(32768, 60999);
  }

  /** A connection this machine opens to `remote`; exchanges and transfers are added by the caller. */
  open(o: Owner, proto: Proto, remote: string, port: number, start: number, end: number, tail: Conn['tail'] = null): Conn {
    const family = remote.includes(':') ? 6 : 4;
    const loopback = remote.startsWith('127.');
    const c: Conn = {
      owner: o,
      proto,
      family,
      localAddress: loopback ? '127.0.0.1' : family === 6 ? LOCAL_V6 : LOCAL_V4,
      localPort: this.ephemeralPort(),
      remoteAddress: remote,
      remotePort: port,
      opened: 'out',
      start,
      end,
      tail,
      ex: [],
      bulk: [],
      loopback,
    };
    this.conns.push(c);
    return c;
  }

  /** A connection a local listener on `localPort` accepted from `remote`. */
  accept(o: Owner, localPort: number, remote: string, start: number, end: number): Conn {
    const c = this.open(o, 'tcp', remote, this.ephemeralPort(), start, end);
    c.opened = 'in';
    c.localPort = localPort;
    return c;
  }

  lookup(t: number, name: string, custom?: Lookup['custom']): void {
    this.lookups.push({ t, name, ...(custom ? { custom } : {}) });
  }
}

/** Adds an exchange: `out` bytes sent at `t`, `inBytes` received shortly after. */
export function exchange(c: Conn, t: number, out: number, inBytes: number): void {
  c.ex.push(t, Math.round(out), Math.round(inBytes));
}

/** Adds a steady transfer over [from, to). */
export function transfer(c: Conn, from: number, to: number, out: number, inBytes: number): void {
  if (to > from) c.bulk.push(from, to, Math.round(out), Math.round(inBytes));
}

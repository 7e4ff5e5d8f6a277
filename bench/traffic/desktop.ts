import type { Draw } from './draw';
import { Zipf } from './draw';
import { type DayPlan } from './days';
import {
  APT_HTTP, AVAHI, CHAT, CHRONY, exchange, FIREFOX, HOUR, LAPTOP, LOCAL_V4, MDNS_GROUP, MINUTE, NETWORK_MANAGER, PHONE, PRINTER, RESTIC, ROUTER, SECOND, SSDP_GROUP, SSH, SSHD, SYNC, transfer, TV,
  type Conn, type Host, type Internet, type Owner, type Pids, type Traffic,
} from './world';

/**
 * The legitimate week of a developer's Linux desktop, process by process. Rates are what such
 * programs do on real machines (their documented defaults where there is one); nothing here is
 * tuned to make a detector look good or bad. bench/traffic/README.md summarises
 * them.
 */
export interface Week {
  start: number;
  end: number;
  plans: readonly DayPlan[];
}

interface Ctx {
  tr: Traffic;
  net: Internet;
  draw: Draw;
  pids: Pids;
  week: Week;
}

/** Uplink and downlink of the home line, bytes per second. */
const UP = 2.5e6;
const DOWN = 12e6;

/** Active spans of the week, flattened and in order. */
const activeSpans = (w: Week) => w.plans.flatMap((p) => p.active);

/** Index of the day `t` falls in. */
function dayIndex(w: Week, t: number): number {
  let d = 0;
  while (d + 1 < w.plans.length && w.plans[d + 1]!.start <= t) d++;
  return d;
}

/**
 * Picks the address a client uses: IPv6 when the name has one (Happy Eyeballs, RFC 8305, gives
 * it a head start that it nearly always wins on a working dual-stack line), else IPv4.
 */
function addressOf(draw: Draw, h: Host): string {
  if (h.v6.length && (h.v4.length === 0 || draw.chance(0.97))) return draw.pick(h.v6);
  return draw.pick(h.v4);
}

/**
 * A client that keeps one connection per host while it is in use and lets it go after an idle
 * timeout (HTTP keep-alive, HTTP/2), looking the name up again when its own cache expired.
 */
class Pool {
  private readonly open = new Map<string, { conn: Conn; idle: number }>();
  private readonly looked = new Map<string, number>();
  private readonly made: Conn[] = [];

  constructor(
    private readonly c: Ctx,
    private readonly who: Owner,
    private readonly o: { idle: [number, number]; quic?: number; tails?: boolean; dnsCacheMs?: number; maxLife?: number },
  ) {}

  /** The connection to `h` at `t`, reused or opened; requests at `t` extend its life. */
  at(h: Host, t: number, port = 443): Conn {
    const key = `${h.name}|${port}`;
    const known = this.open.get(key);
    if (known && known.conn.end > t) {
      if (t - known.conn.start < (this.o.maxLife ?? Infinity)) {
        known.conn.end = Math.max(known.conn.end, t + known.idle);
        return known.conn;
      }
      known.conn.end = t - 0.1 * SECOND;
    }
    const { draw, tr } = this.c;
    if ((this.looked.get(h.name) ?? -Infinity) < t - (this.o.dnsCacheMs ?? 60 * SECOND)) {
      tr.lookup(t - draw.uniform(5, 60), h.name);
      this.looked.set(h.name, t);
    }
    const udp = h.quic && port === 443 && draw.chance(this.o.quic ?? 0);
    const idle = draw.logUniform(this.o.idle[0], this.o.idle[1]);
    const conn = tr.open(this.who, udp ? 'udp' : 'tcp', addressOf(draw, h), port, t, t + idle);
    this.open.set(key, { conn, idle });
    this.made.push(conn);
    return conn;
  }

  /** Closes every connection: tails (the server closed first, or we did) and late packets. */
  finish(): void {
    if (!this.o.tails) return;
    const { draw, tr } = this.c;
    for (const c of this.made) {
      if (c.proto !== 'tcp' || c.tail) continue;
      const r = draw.next();
      if (r < 0.1) c.tail = { state: 'close-wait', until: c.end + draw.uniform(1, 60) * SECOND };
      else if (r < 0.2) c.tail = { state: 'fin-wait-2', until: c.end + draw.uniform(1, 30) * SECOND };
      // A retransmitted FIN or a reset reaching a port that is already closed.
      if (draw.chance(0.02)) {
        const at = (c.tail?.until ?? c.end) + draw.uniform(0.5, 20) * SECOND;
        tr.raw.push({ t: at, proto: 'tcp', direction: 'inbound', localAddr: c.localAddress, localPort: c.localPort, remoteAddr: c.remoteAddress, remotePort: c.remotePort, packets: 1, bytes: 54, flags: draw.chance(0.5) ? 0x04 : 0x11 });
      }
    }
  }
}

interface Site {
  main: Host;
  own: Host[];
  third: Host[];
}

const WORDS = ['news', 'shop', 'docs', 'wiki', 'forum', 'video', 'maps', 'blog', 'code', 'mail', 'photo', 'travel', 'bank', 'music', 'games', 'sport', 'food', 'learn', 'jobs', 'tech'];

function browser(c: Ctx): void {
  const { net, draw, week, tr } = c;
  // Third parties shared by many sites: CDN edges, fonts, analytics, ads (some blocked by the router).
  const edges = Array.from({ length: 12 }, (_, k) => net.add(`edge${k}.cdn.example.net`, { v4: 2, v6: 2, ttl: draw.pick([60, 120, 300]), quic: draw.chance(0.5) }));
  const third: Host[] = [
    ...edges.slice(0, 6),
    net.add('fonts.example.org', { v4: 2, v6: 2, ttl: 3600, quic: true }),
    ...Array.from({ length: 8 }, (_, k) => net.add(`tag${k}.analytics.example.org`, { v4: 1, v6: draw.int(0, 1), ttl: 300 })),
    ...Array.from({ length: 6 }, (_, k) => net.add(`ads${k}.example.org`, { v4: 1, ttl: 300 })),
  ];
  for (const h of third) if (h.name.startsWith('ads') && draw.chance(0.5)) net.blocked.add(h.name);
  const thirdZipf = new Zipf(third.length, 0.8);
  const site = (label: string): Site => {
    const main = net.add(`www.${label}.test`, { v4: 1, v6: draw.chance(0.5) ? 1 : 0, quic: draw.chance(0.25) });
    const own: Host[] = [];
    if (draw.chance(0.6)) own.push(net.alias(`static.${label}.test`, draw.pick(edges)));
    if (draw.chance(0.4)) own.push(net.add(`api.${label}.test`, { v4: 1, v6: draw.chance(0.4) ? 1 : 0 }));
    const t = new Set<Host>();
    for (let n = draw.int(1, 5); n > 0; n--) t.add(third[thirdZipf.rank(draw)]!);
    return { main, own, third: [...t] };
  };
  const regular = Array.from({ length: 150 }, (_, i) => site(`${WORDS[i % WORDS.length]}${i}`));
  const daily = week.plans.map((_, d) => Array.from({ length: 25 }, (_, i) => site(`${WORDS[(i + d) % WORDS.length]}-d${d}x${i}`)));
  const zipf = new Zipf(regular.length, 1);
  // Servers keep an idle HTTP/2 connection from about a minute and a half to ten minutes.
  const pool = new Pool(c, FIREFOX, { idle: [90 * SECOND, 600 * SECOND], quic: 0.6, tails: true });

  const pageLoad = (t: number, s: Site) => {
    const main = pool.at(s.main, t);
    exchange(main, t + 0.05 * SECOND, draw.logNormal(900, 0.4), draw.logNormal(40_000, 1));
    for (const h of [...s.own, ...s.third]) {
      if (!draw.chance(0.85)) continue;
      if (net.blocked.has(h.name)) {
        tr.lookup(t + draw.uniform(0.1, 1) * SECOND, h.name);
        continue;
      }
      const at = t + draw.uniform(0.2, 3) * SECOND;
      const conn = pool.at(h, at);
      const requests = h.name.startsWith('static') || h.name.startsWith('edge') ? draw.int(3, 25) : draw.int(1, 4);
      for (let i = 0; i < requests; i++) exchange(conn, at + draw.uniform(0, 4) * SECOND, draw.logNormal(600, 0.4), draw.logNormal(12_000, 1.6));
    }
  };

  // Page loads while the user is active: bursts of reading (one every ~15 s) and stretches of
  // work elsewhere (one every ~3 min), switching every ~10 minutes.
  for (const [a, b] of activeSpans(week)) {
    let engaged = draw.chance(0.5);
    let switchAt = a + draw.exp(10 * MINUTE);
    let current: Site | null = null;
    for (let t = a + draw.exp(30 * SECOND); t < b; ) {
      const d = dayIndex(week, t);
      const s: Site = current && draw.chance(0.4) ? current : draw.chance(0.8) ? regular[zipf.rank(draw)]! : draw.pick(daily[d]!);
      current = s;
      pageLoad(t, s);
      const next = t + draw.exp(engaged ? 15 * SECOND : 3 * MINUTE);
      // A single-page app polls its API while it is open.
      if (s.own.length && draw.chance(0.3)) {
        const api = s.own[s.own.length - 1]!;
        for (let u = t + 30 * SECOND; u < next && u < b; u += draw.jittered(30 * SECOND, 0.1)) exchange(pool.at(api, u), u, draw.logNormal(500, 0.3), draw.logNormal(2_000, 0.8));
      }
      t = next;
      if (t > switchAt) {
        engaged = !engaged;
        switchAt = t + draw.exp(10 * MINUTE);
      }
    }
    // Now and then an upload through a web form (an attachment, a document).
    for (let t = a + draw.exp(3 * HOUR); t < b; t += draw.exp(3 * HOUR)) {
      const s = regular[zipf.rank(draw)]!;
      const conn = pool.at(s.main, t);
      const bytes = draw.logNormal(3e6, 1);
      transfer(conn, t, t + bytes / UP, bytes, 2_000);
      conn.end = Math.max(conn.end, t + bytes / UP + 60 * SECOND);
    }
  }

  // Video: some lunch breaks and evenings, 15-60 minutes of streaming over QUIC.
  const video = net.add('video.stream.example.com', { v4: 2, v6: 2, ttl: 300, quic: true });
  for (const p of week.plans) {
    for (const [h, pr] of [[12.4, 0.3], [21, p.weekend ? 0.6 : 0.3]] as const) {
      if (!draw.chance(pr)) continue;
      const t = p.start + h * HOUR + draw.uniform(-20, 20) * MINUTE;
      const len = draw.uniform(15, 60) * MINUTE;
      tr.lookup(t - SECOND, video.name);
      const conn = tr.open(FIREFOX, 'udp', addressOf(draw, video), 443, t, t + len + 20 * SECOND);
      const rate = draw.uniform(0.4e6, 1e6);
      transfer(conn, t, t + len, 0, rate * len / SECOND);
      exchange(conn, t, 1_500, 6_000);
    }
  }

  // Background, all week: the push service's websocket, a webmail tab polling every minute over
  // a kept-alive connection, a calendar tab polling every five minutes (each poll a new
  // connection: the keep-alive timeout is shorter), telemetry now and then.
  const push = net.add('push.services.example.org', { v4: 2, v6: 1, ttl: 600 });
  for (let t = week.start - draw.uniform(0, 4) * HOUR; t < week.end; ) {
    const life = draw.uniform(1, 8) * HOUR;
    tr.lookup(t - SECOND, push.name);
    const conn = tr.open(FIREFOX, 'tcp', addressOf(draw, push), 443, t, t + life);
    exchange(conn, t, 700, 4_500);
    for (let u = t + 5 * MINUTE; u < t + life; u += 5 * MINUTE) exchange(conn, u, 60, 60);
    t += life + draw.uniform(1, 10) * SECOND;
  }
  const mail = net.add('mail.example.com', { v4: 1, v6: 1, ttl: 300 });
  const mailPool = new Pool(c, FIREFOX, { idle: [115 * SECOND, 115 * SECOND], tails: true, maxLife: HOUR });
  for (let t = week.start + draw.uniform(0, 60) * SECOND; t < week.end; t += draw.jittered(60 * SECOND, 0.01)) {
    exchange(mailPool.at(mail, t), t, draw.logNormal(650, 0.1), draw.chance(0.05) ? draw.logNormal(30_000, 1) : draw.logNormal(400, 0.2));
  }
  const calendar = net.add('calendar.example.com', { v4: 1, ttl: 300 });
  const calPool = new Pool(c, FIREFOX, { idle: [115 * SECOND, 115 * SECOND], tails: true, dnsCacheMs: 0 });
  for (let t = week.start + draw.uniform(0, 300) * SECOND; t < week.end; t += draw.jittered(300 * SECOND, 0.01)) {
    exchange(calPool.at(calendar, t), t, draw.logNormal(700, 0.1), draw.logNormal(1_200, 0.3));
  }
  const telemetry = net.add('incoming.telemetry.example.org', { v4: 1, v6: 1, ttl: 60 });
  for (const [a, b] of activeSpans(week)) {
    for (let t = a + draw.exp(30 * MINUTE); t < b; t += draw.exp(30 * MINUTE)) exchange(pool.at(telemetry, t), t, draw.logNormal(8_000, 0.8), 400);
  }
  pool.finish();
  mailPool.finish();
  calPool.finish();
}

/**
 * The chat app: one websocket held all week with a heartbeat every 30 s (reconnected when the
 * server drops it, every 2-8 hours), messages arriving on it (more while the user is at work),
 * the user's own messages through the API, images from the file CDN.
 */
function chat(c: Ctx): void {
  const { net, draw, week, tr } = c;
  const gateway = net.add('gateway.chat.example.com', { v4: 4, v6: 0, ttl: 60 });
  const api = net.add('api.chat.example.com', { v4: 2, v6: 0, ttl: 60 });
  const files = net.add('files.chat.example.com', { v4: 2, v6: 2, ttl: 300 });
  const pool = new Pool(c, CHAT, { idle: [60 * SECOND, 90 * SECOND], tails: true });
  for (let t = week.start - draw.uniform(0, 6) * HOUR; t < week.end; ) {
    const life = draw.uniform(2, 8) * HOUR;
    tr.lookup(t - SECOND, gateway.name);
    const ws = tr.open(CHAT, 'tcp', draw.pick(gateway.v4), 443, t, t + life, { state: 'close-wait', until: t + life + draw.uniform(2, 30) * SECOND });
    exchange(ws, t, 1_200, 9_000);
    for (let u = t + 30 * SECOND; u < t + life; u += draw.jittered(30 * SECOND, 0.005)) exchange(ws, u, 90, 90);
    let u = t;
    while ((u += draw.exp(6 * MINUTE)) < t + life) {
      // Messages come in at every hour, twelve times more often while the user works.
      const busy = week.plans.some((p) => p.active.some(([a, b]) => u >= a && u < b));
      if (!busy && !draw.chance(1 / 12)) continue;
      exchange(ws, u, 60, draw.logNormal(1_500, 0.8));
      if (draw.chance(0.1)) exchange(pool.at(files, u + 0.5 * SECOND), u + 0.5 * SECOND, 700, draw.logNormal(200_000, 1.2));
      if (busy && draw.chance(0.3)) {
        const v = u + draw.uniform(10, 120) * SECOND;
        exchange(pool.at(api, v), v, draw.logNormal(900, 0.6), 1_200);
        if (draw.chance(0.04)) {
          const conn = pool.at(files, v);
          const bytes = draw.logNormal(1.5e6, 1);
          transfer(conn, v, v + bytes / UP, bytes, 1_000);
          conn.end = Math.max(conn.end, v + bytes / UP + 60 * SECOND);
        }
      }
    }
    t += life + draw.uniform(1, 10) * SECOND;
  }
  pool.finish();
}

/**
 * The file sync client: polls its server every 30 s over a kept-alive connection (renewed after
 * 100 requests, the server's limit), uploads what the user saves while at work (mostly small,
 * now and then big), downloads what other devices changed.
 */
function sync(c: Ctx): void {
  const { net, draw, week, tr } = c;
  const cloud = net.add('cloud.example.net', { v4: 1, v6: 1, ttl: 3600 });
  let conn: Conn | null = null;
  let n = 0;
  for (let t = week.start - draw.uniform(0, 30) * SECOND; t < week.end; t += draw.jittered(30 * SECOND, 0.01)) {
    if (!conn || n++ >= 100) {
      if (conn) conn.end = t - 0.5 * SECOND;
      tr.lookup(t - 0.2 * SECOND, cloud.name);
      conn = tr.open(SYNC, 'tcp', addressOf(draw, cloud), 443, t, week.end + HOUR);
      exchange(conn, t, 700, 4_800);
      n = 1;
    }
    exchange(conn, t, draw.logNormal(700, 0.1), draw.logNormal(900, 0.2));
  }
  const xfer = new Pool(c, SYNC, { idle: [30 * SECOND, 60 * SECOND], dnsCacheMs: 3600 * SECOND });
  for (const [a, b] of activeSpans(week)) {
    for (let t = a + draw.exp(45 * MINUTE); t < b; t += draw.exp(45 * MINUTE)) {
      const bytes = draw.chance(0.02) ? draw.uniform(50e6, 300e6) : draw.logNormal(400_000, 1.5);
      const conn = xfer.at(cloud, t);
      transfer(conn, t, t + bytes / UP, bytes, 3_000);
      conn.end = Math.max(conn.end, t + bytes / UP + 30 * SECOND);
    }
  }
  for (let t = week.start + draw.exp(2 * HOUR); t < week.end; t += draw.exp(2 * HOUR)) {
    const bytes = draw.logNormal(300_000, 1.5);
    const conn = xfer.at(cloud, t);
    transfer(conn, t, t + bytes / DOWN + SECOND, 2_000, bytes);
    conn.end = Math.max(conn.end, t + bytes / DOWN + 30 * SECOND);
  }
}

/**
 * Package updates: the apt timers run twice a day (around 06:00 and 18:00, within an hour), one
 * fetcher process each time, to the mirror and the security mirror over HTTP; index files are
 * mostly unchanged, and one morning in two brings packages to download.
 */
function updates(c: Ctx): void {
  const { net, draw, week, tr, pids } = c;
  const mirror = net.add('deb.example.org', { v4: 2, v6: 2, ttl: 300 });
  const security = net.add('security.example.org', { v4: 2, v6: 1, ttl: 300 });
  for (const p of week.plans) {
    for (const h of [6, 18]) {
      const t0 = p.start + h * HOUR + draw.uniform(-60, 60) * MINUTE;
      const who = pids.of(APT_HTTP);
      let t = t0;
      for (const host of [mirror, security]) {
        tr.lookup(t, host.name);
        const conn = tr.open(who, 'tcp', addressOf(draw, host), 80, t + 0.05 * SECOND, t + 2 * SECOND);
        for (let f = 0; f < 4; f++) {
          const changed = draw.chance(0.3);
          exchange(conn, t + 0.1 * SECOND + f * 0.3 * SECOND, 350, changed ? draw.logNormal(3e6, 1) : 600);
        }
        if (h === 6 && host === mirror && draw.chance(0.5)) {
          const bytes = draw.logNormal(40e6, 1);
          transfer(conn, t + 2 * SECOND, t + 2 * SECOND + bytes / DOWN, 20_000, bytes);
          conn.end = t + 3 * SECOND + bytes / DOWN;
        } else conn.end = t + 3 * SECOND + draw.uniform(0, 5) * SECOND;
        t = conn.end + SECOND;
      }
    }
  }
}

/** The nightly backup: restic at about 02:00, four connections to one host, 10-30 minutes of upload. */
function backups(c: Ctx): void {
  const { net, draw, week, tr, pids } = c;
  const target = net.add('backup.example.org', { v4: 1, ttl: 300 });
  for (const p of week.plans) {
    const t = p.start + 2 * HOUR + draw.uniform(-15, 15) * MINUTE;
    const len = draw.uniform(10, 30) * MINUTE;
    const total = draw.logNormal(400e6, 0.5);
    const who = pids.of(RESTIC);
    tr.lookup(t - SECOND, target.name);
    for (let k = 0; k < 4; k++) {
      const conn = tr.open(who, 'tcp', target.v4[0]!, 443, t + k * 0.1 * SECOND, t + len + 5 * SECOND);
      exchange(conn, t, 800, 4_500);
      transfer(conn, t + 20 * SECOND, t + len, total / 4, total / 400);
    }
  }
}

/**
 * ssh: on most weekdays a long interactive session to a work server (keystrokes, output, a
 * keepalive a minute), git over ssh several times a day, and now and then a session from the
 * laptop on the LAN into this machine's sshd.
 */
function shells(c: Ctx): void {
  const { net, draw, week, tr, pids } = c;
  const dev = net.add('dev.example.com', { v4: 1, ttl: 3600 });
  const git = net.add('git.example.com', { v4: 1, v6: 1, ttl: 300 });
  for (const p of week.plans) {
    if (p.weekend) continue;
    const work = p.active.filter(([a, b]) => b - a > 40 * MINUTE);
    if (work.length && draw.chance(0.7)) {
      const [a, b] = draw.pick(work);
      const t = draw.uniform(a, b - 30 * MINUTE);
      const len = Math.min(b - t, draw.uniform(30, 180) * MINUTE);
      tr.lookup(t - SECOND, dev.name);
      const conn = tr.open(pids.of(SSH), 'tcp', dev.v4[0]!, 22, t, t + len);
      exchange(conn, t, 3_000, 3_500);
      for (let u = t + 60 * SECOND; u < t + len; u += 60 * SECOND) exchange(conn, u, 100, 100);
      for (let u = t + draw.exp(20 * SECOND); u < t + len; u += draw.exp(draw.chance(0.8) ? 3 * SECOND : 2 * MINUTE)) exchange(conn, u, 100, draw.logNormal(400, 1.5));
    }
    for (const [a, b] of work) {
      for (let t = a + draw.exp(90 * MINUTE); t < b; t += draw.exp(90 * MINUTE)) {
        tr.lookup(t - 0.1 * SECOND, git.name);
        const len = draw.uniform(1, 8) * SECOND;
        const conn = tr.open(pids.of(SSH), 'tcp', addressOf(draw, git), 22, t, t + len);
        exchange(conn, t, 3_000, 3_500);
        exchange(conn, t + 0.5 * SECOND, draw.logNormal(3_000, 1), draw.logNormal(50_000, 2));
      }
    }
    if (draw.chance(0.4)) {
      const t = p.start + draw.uniform(10, 16) * HOUR;
      const len = draw.uniform(20, 90) * MINUTE;
      const conn = tr.accept({ ...SSHD, pid: pids.next() }, 22, LAPTOP, t, t + len);
      exchange(conn, t, 3_500, 3_000);
      for (let u = t + draw.exp(30 * SECOND); u < t + len; u += draw.exp(30 * SECOND)) exchange(conn, u, draw.logNormal(500, 1.5), 100);
    }
  }
}

/**
 * System services: chronyd polling four pool servers (every 64 s at first, then doubling to
 * 1024 s), NetworkManager's connectivity check every 300 s, mDNS and SSDP chatter from the
 * phone, printer and TV on the LAN, ARP with the router.
 */
function system(c: Ctx): void {
  const { net, draw, week, tr } = c;
  const ntp = Array.from({ length: 4 }, (_, k) => net.add(`${k}.pool.ntp.example.org`, { v4: 1, ttl: 3600 }));
  for (const [k, server] of ntp.entries()) {
    tr.lookup(week.start + k * SECOND, server.name);
    let poll = 64;
    let count = 0;
    for (let t = week.start + draw.uniform(2, 10) * SECOND; t < week.end; t += draw.jittered(poll * SECOND, 0.02)) {
      const conn = tr.open(CHRONY, 'udp', server.v4[0]!, 123, t, t + 0.03 * SECOND);
      exchange(conn, t, 48, 48);
      if (++count % 8 === 0 && poll < 1024) poll *= 2;
    }
  }
  const check = net.add('connectivity-check.example.net', { v4: 1, v6: 1, ttl: 60 });
  for (let t = week.start + draw.uniform(0, 300) * SECOND; t < week.end; t += draw.jittered(300 * SECOND, 0.003)) {
    tr.lookup(t - 0.05 * SECOND, check.name);
    const conn = tr.open(NETWORK_MANAGER, 'tcp', addressOf(draw, check), 80, t, t + draw.uniform(0.1, 0.3) * SECOND);
    exchange(conn, t, 110, 220);
  }
  // LAN chatter: mDNS questions and announcements, SSDP notifications, ARP.
  for (let t = week.start + draw.exp(60 * SECOND); t < week.end; t += draw.exp(60 * SECOND)) {
    const from = draw.pick([PHONE, PRINTER, TV, LAPTOP]);
    const n = draw.int(1, 3);
    tr.raw.push({ t, proto: 'udp', direction: 'inbound', localAddr: MDNS_GROUP, localPort: 5353, remoteAddr: from, remotePort: 5353, packets: n, bytes: n * draw.int(120, 400), flags: 0 });
    if (draw.chance(0.3)) tr.raw.push({ t: t + 0.2 * SECOND, proto: 'udp', direction: 'outbound', localAddr: LOCAL_V4, localPort: 5353, remoteAddr: MDNS_GROUP, remotePort: 5353, packets: 1, bytes: draw.int(150, 450), flags: 0 });
  }
  for (let t = week.start + draw.uniform(0, 180) * SECOND; t < week.end; t += draw.jittered(180 * SECOND, 0.05)) {
    tr.raw.push({ t, proto: 'udp', direction: 'inbound', localAddr: SSDP_GROUP, localPort: 1900, remoteAddr: TV, remotePort: 1900, packets: 6, bytes: 6 * 350, flags: 0 });
  }
  for (let t = week.start + draw.exp(4 * MINUTE); t < week.end; t += draw.exp(4 * MINUTE)) {
    tr.raw.push({ t, proto: 'arp', direction: 'inbound', localAddr: LOCAL_V4, localPort: null, remoteAddr: ROUTER, remotePort: null, packets: 1, bytes: 60, flags: 0 });
    tr.raw.push({ t: t + 0.001 * SECOND, proto: 'arp', direction: 'outbound', localAddr: LOCAL_V4, localPort: null, remoteAddr: ROUTER, remotePort: null, packets: 1, bytes: 42, flags: 0 });
  }
}

/** Every legitimate process of the week, added to `tr`. */
export function legitimateWeek(tr: Traffic, net: Internet, draw: (part: string) => Draw, pids: Pids, week: Week): void {
  const ctx = (part: string): Ctx => ({ tr, net, draw: draw(part), pids, week });
  browser(ctx('browser'));
  chat(ctx('chat'));
  sync(ctx('sync'));
  updates(ctx('updates'));
  backups(ctx('backups'));
  shells(ctx('shells'));
  system(ctx('system'));
}

/** Processes whose pid stays the same all week (for tests and labels). */
export const STEADY = { FIREFOX, CHAT, SYNC, CHRONY, NETWORK_MANAGER, AVAHI };
export { LOCAL_V4 };

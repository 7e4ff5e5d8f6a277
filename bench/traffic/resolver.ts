import type { Draw } from './draw';
import { ROUTER, SECOND, type DnsTransaction, type Internet, type Lookup } from './world';

/**
 * The system resolver between the applications and the wire, like systemd-resolved: programs ask
 * its stub on 127.0.0.53 (loopback, never on the captured interface); it answers from its cache
 * while the answer's TTL lasts, and otherwise asks the router's resolver with an A and an AAAA
 * question from a fresh random port. NXDOMAIN is cached for a minute; now and then the router
 * answers SERVFAIL (not cached), and the program asks again a second later.
 */
export function resolve(lookups: readonly Lookup[], net: Internet, draw: Draw): DnsTransaction[] {
  const out: DnsTransaction[] = [];
  const cache = new Map<string, number>();
  const sorted = [...lookups].sort((a, b) => a.t - b.t);
  const ask = (t: number, name: string): void => {
    const tx = (rcode: string, answers: DnsTransaction['answers']): DnsTransaction => ({ t, rtt: draw.uniform(2, 40), localPort: draw.int(1024, 65535), server: ROUTER, name, qtypes: ['A', 'AAAA'], rcode, answers });
    if (draw.chance(0.002)) {
      out.push(tx('SERVFAIL', [[], []]));
      ask(t + SECOND, name);
      return;
    }
    const a = net.answer(name);
    out.push(tx(a.rcode, [a.a, a.aaaa]));
    cache.set(name, t + (a.rcode === 'NOERROR' ? a.ttl : 60) * SECOND);
  };
  for (const l of sorted) {
    if (l.custom) {
      out.push({ t: l.t, rtt: draw.uniform(20, 120), localPort: draw.int(1024, 65535), server: ROUTER, name: l.name, qtypes: [l.custom.qtype], rcode: l.custom.rcode, answers: [l.custom.answers] });
      continue;
    }
    if ((cache.get(l.name) ?? -Infinity) > l.t) continue;
    ask(l.t, l.name);
  }
  return out;
}

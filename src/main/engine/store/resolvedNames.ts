import type { DnsEvent } from '../collect/capture/captureSummary';

/**
 * The names this machine resolved, from captured DNS answers: address -> the name that was asked
 * for (the question, not the end of a CNAME chain: "cdn.example.net", which the user recognises,
 * rather than a CDN's edge name) and when. A remote end is named by the most recent answer that
 * mapped to its address, learned before its connection was stored or updated after.
 *
 * Held in memory for the few rounds between an answer and the connection it announces; bounded
 * in entries and age.
 */
const MAX_ENTRIES = 20_000;
const MAX_AGE_MS = 60 * 60_000;

/** One address as the socket tables and the wire both write it: an IPv4-mapped IPv6 address as plain IPv4. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class ResolvedNames {
  private readonly byAddress = new Map<string, { name: string; at: number }>();

  /** Takes the A and AAAA answers of successful responses; returns the addresses it learned a name for. */
  learn(events: readonly DnsEvent[]): { address: string; name: string; at: number }[] {
    const learned = new Map<string, { address: string; name: string; at: number }>();
    for (const e of events) {
      const dns = e.dns;
      if (!dns.isResponse || dns.rcode !== 'NOERROR') continue;
      for (const a of dns.answers) {
        if (a.type !== 'A' && a.type !== 'AAAA') continue;
        const address = plainAddress(a.data);
        const name = (dns.queries[0] ?? a.name).replace(/\.$/, '').toLowerCase();
        if (!name) continue;
        const known = this.byAddress.get(address);
        if (known && known.at > e.ts) continue;
        // Re-inserted so that the map's order stays oldest first.
        this.byAddress.delete(address);
        this.byAddress.set(address, { name, at: e.ts });
        learned.set(address, { address, name, at: e.ts });
      }
    }
    this.prune(Math.max(0, ...[...learned.values()].map((l) => l.at)));
    return [...learned.values()];
  }

  /** The name last resolved to `address`, or null. */
  nameOf(address: string): { name: string; at: number } | null {
    return this.byAddress.get(plainAddress(address)) ?? null;
  }

  private prune(now: number): void {
    for (const [address, entry] of this.byAddress) {
      if (this.byAddress.size <= MAX_ENTRIES && entry.at >= now - MAX_AGE_MS) break;
      this.byAddress.delete(address);
    }
  }
}

/**
 * Entropies for the traffic features: of a distribution of counts (remote ports), and of the
 * characters of a DNS name's left-hand part, where tunnels and generated domains put their data.
 */

/** Shannon entropy in bits of the distribution the counts describe (0 for none or one value). */
export function shannonBits(counts: Iterable<number>): number {
  let total = 0;
  const values: number[] = [];
  for (const c of counts) {
    if (c <= 0) continue;
    values.push(c);
    total += c;
  }
  if (values.length < 2) return 0;
  let bits = 0;
  for (const c of values) {
    const p = c / total;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Entropy in bits of the characters of `text` (each character's frequency in it). */
export function characterBits(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  return shannonBits(counts.values());
}

export interface DnsNameShape {
  /** The name, lower case, without a trailing dot. */
  name: string;
  /** Length of its longest label (DNS allows 63). */
  longestLabel: number;
  /** Character entropy in bits of the part left of the last two labels (of the first label for shorter names). */
  entropyBits: number;
}

/** Lower case, no trailing dot: the form remote ends are named in (resolvedNames.ts). */
export function normalizeName(name: string): string {
  return name.trim().replace(/\.$/, '').toLowerCase();
}

/**
 * The shape of a DNS name. The part the entropy is taken of is what the owner of a domain is free
 * to choose ("x7f3k2...q9" in x7f3k2...q9.tunnel.example): the labels left of the last two.
 * Two labels is a rough registrable domain (it reads "co.uk" as one); a finer cut would need the
 * public-suffix list, and what matters here is that long random labels stand out.
 */
export function dnsNameShape(raw: string): DnsNameShape {
  const name = normalizeName(raw);
  const labels = name.split('.').filter((l) => l.length > 0);
  const longestLabel = labels.reduce((m, l) => Math.max(m, l.length), 0);
  const chosen = labels.length > 2 ? labels.slice(0, -2).join('') : (labels[0] ?? '');
  return { name, longestLabel, entropyBits: characterBits(chosen) };
}

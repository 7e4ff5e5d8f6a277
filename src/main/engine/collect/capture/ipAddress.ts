/**
 * Text forms of IP addresses read straight from packet bytes. The strings must equal what
 * `os.networkInterfaces()` reports (libuv's inet_ntop), because flows decide "is this address
 * mine?" by comparing these strings with the machine's own addresses.
 */

// A host talks to few addresses, and every packet carries two: their text is built once and
// reused, which saves two strings per packet and makes later comparisons of them cheap.
const ipv4Text = new Map<number, string>();
const IPV4_CACHE_MAX = 4096;

export function formatIPv4(b: Uint8Array, off: number): string {
  const n = (((b[off] as number) << 24) | ((b[off + 1] as number) << 16) | ((b[off + 2] as number) << 8) | (b[off + 3] as number)) >>> 0;
  let text = ipv4Text.get(n);
  if (text === undefined) {
    // A scan of many addresses must not grow the cache without bound.
    if (ipv4Text.size >= IPV4_CACHE_MAX) ipv4Text.clear();
    text = `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
    ipv4Text.set(n, text);
  }
  return text;
}

// Reused between calls: decoding is synchronous, so one scratch array serves every packet.
const words = new Uint16Array(8);

export function formatIPv6(b: Uint8Array, off: number): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    const w = ((b[off + 2 * i] ?? 0) << 8) | (b[off + 2 * i + 1] ?? 0);
    words[i] = w;
    if (w === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && curLen > bestLen) {
    bestBase = curBase;
    bestLen = curLen;
  }
  // RFC 5952: a single zero group is never shortened to "::".
  if (bestLen < 2) bestBase = -1;

  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // libuv prints IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) tails dotted.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += formatIPv4(b, off + 12);
      return out;
    }
    out += (words[i] as number).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

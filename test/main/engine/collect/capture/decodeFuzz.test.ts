import { describe, expect, it } from 'vitest';
import * as dnsPacket from 'dns-packet';
import { decodePacket, type DecodeResult } from '../../../../../src/main/engine/collect/capture/decode';
import { LinkType } from '../../../../../src/main/engine/collect/capture/linkType';
import { TCP, arpRequest, bsdLoop, bsdNull, ethernet, icmp, ipv4, ipv6, ipv6FragmentHeader, ipv6OptionsHeader, sll, sll2, tcp, udp } from './support/packets';
import { randomInt, seededRandom } from '../../../../../src/shared/random';

const SEED = 20_240_601;

const dnsResponse = dnsPacket.encode({
  type: 'response',
  id: 1,
  questions: [{ type: 'A', name: 'fuzz.portent.example' }],
  answers: [
    { type: 'CNAME', name: 'fuzz.portent.example', data: 'x.example' },
    { type: 'A', name: 'x.example', data: '192.0.2.1' },
    { type: 'AAAA', name: 'x.example', data: '2001:db8::1' },
  ],
});
const v4 = (proto: number, payload: Buffer) => ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto, payload, options: Buffer.from([1, 1, 1, 0]) });
const v6 = (next: number, payload: Buffer) =>
  ipv6({ src: 'fd00::1', dst: 'fd00::2', next, payload, extensions: [ipv6OptionsHeader(0), ipv6FragmentHeader(0, false), ipv6OptionsHeader(60, 2)] });

/** One valid frame of every shape the decoder knows, as seeds for mutation. */
const corpus: Array<[number, Buffer]> = [
  [LinkType.EN10MB, ethernet(0x0800, v4(17, udp({ sport: 53, dport: 40000, payload: dnsResponse })), [5])],
  [LinkType.EN10MB, ethernet(0x86dd, v6(6, tcp({ sport: 53, dport: 40000, flags: TCP.ACK, payload: dnsPacket.streamEncode({ type: 'query', questions: [{ type: 'A', name: 'a.example' }] }) })))],
  [LinkType.EN10MB, ethernet(0x0806, arpRequest('10.0.0.1', '10.0.0.2'))],
  [LinkType.LINUX_SLL, sll(0x86dd, v6(58, icmp(128, 0, Buffer.alloc(8))))],
  [LinkType.LINUX_SLL2, sll2(0x0800, v4(6, tcp({ sport: 1, dport: 2, flags: TCP.SYN, options: Buffer.from([2, 4, 5, 180]) })))],
  [LinkType.NULL, bsdNull(30, v6(17, udp({ sport: 5353, dport: 5353, payload: dnsResponse })))],
  [LinkType.LOOP, bsdLoop(2, v4(1, icmp(0, 0, Buffer.alloc(16))))],
  [LinkType.RAW, v4(17, udp({ sport: 5000, dport: 53, payload: dnsResponse }))],
  [LinkType.LINKTYPE_RAW, v6(17, udp({ sport: 53, dport: 5000, payload: dnsResponse }))],
];
const LINK_TYPES = [...new Set(corpus.map(([dlt]) => dlt)), LinkType.IPV4, LinkType.IPV6, 127, 9999];

const MALFORMED_REASONS = new Set([
  'bad-arguments', 'unsupported-link-type', 'truncated-link', 'too-many-vlan-tags', 'bad-ip-version', 'truncated-ipv4',
  'bad-ipv4-header-length', 'bad-ipv4-total-length', 'truncated-ipv6', 'bad-ipv6-payload-length', 'truncated-ipv6-extension',
  'bad-ipv6-extension', 'truncated-tcp', 'bad-tcp-header-length', 'truncated-udp', 'bad-udp-length', 'truncated-icmp',
]);

const isPort = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535);
const isByte = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255);

/** Everything a result must satisfy whatever the input; returns a description of the first breach. */
function breach(r: DecodeResult, caplen: number): string | null {
  // Reads past the captured bytes show up as "undefined"/"NaN" in text or as non-integers.
  const text = JSON.stringify(r);
  if (/undefined|NaN/.test(text)) return `out-of-bounds read: ${text}`;
  const bytes: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (v instanceof Uint8Array) bytes.push(path);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(r, 'result');
  if (bytes.length) return `payload bytes kept at ${bytes.join(', ')}`;
  if (r.kind === 'malformed') return MALFORMED_REASONS.has(r.reason) ? null : `reason ${r.reason}`;
  if (r.kind !== 'packet') return `kind ${String((r as { kind: unknown }).kind)}`;
  if (!isPort(r.srcPort) || !isPort(r.dstPort)) return `ports ${r.srcPort} ${r.dstPort}`;
  if (!isByte(r.icmpType) || !isByte(r.icmpCode)) return `icmp ${r.icmpType}/${r.icmpCode}`;
  if (r.tcpFlags !== null && !(r.tcpFlags >= 0 && r.tcpFlags <= 0x1ff)) return `tcp flags ${r.tcpFlags}`;
  if (!(r.length >= caplen)) return `length ${r.length} < caplen ${caplen}`;
  return null;
}

function check(buf: Uint8Array, dlt: number, caplen: number, wireLen: number, label: string): DecodeResult {
  let r: DecodeResult;
  try {
    r = decodePacket(buf, dlt, caplen, wireLen, 1);
  } catch (e) {
    throw new Error(`decodePacket threw on ${label}: ${String(e)}`, { cause: e });
  }
  const problem = breach(r, caplen);
  if (problem) throw new Error(`${label}: ${problem}`);
  return r;
}

describe('decoder fuzzing (seed ' + SEED + ')', () => {
  it('the corpus itself decodes cleanly', () => {
    for (const [dlt, frame] of corpus) expect(check(frame, dlt, frame.length, frame.length, `corpus dlt ${dlt}`).kind).toBe('packet');
  });

  it('every truncation of every corpus frame: no throw, and no byte past caplen is ever read', () => {
    const rand = seededRandom(SEED);
    for (const [dlt, frame] of corpus) {
      for (let len = 0; len <= frame.length; len++) {
        // The same prefix in an exact-size buffer and in a bigger one with garbage after it:
        // any read past caplen would make the two results differ.
        const exact = Uint8Array.from(frame.subarray(0, len));
        const padded = new Uint8Array(len + 64);
        padded.set(exact);
        for (let i = len; i < padded.length; i++) padded[i] = randomInt(rand, 256);
        for (const wire of [0, frame.length]) {
          const a = check(exact, dlt, len, wire, `dlt ${dlt} cut at ${len}/${frame.length}`);
          const b = check(padded, dlt, len, wire, `dlt ${dlt} cut at ${len}/${frame.length}, padded`);
          expect(b).toEqual(a);
        }
      }
    }
  });

  it('20,000 mutated corpus frames (1-8 random bytes rewritten)', () => {
    const rand = seededRandom(SEED + 1);
    const kinds = { packet: 0, malformed: 0 };
    for (let n = 0; n < 20_000; n++) {
      const [dlt, frame] = corpus[n % corpus.length]!;
      const m = Buffer.from(frame);
      const edits = 1 + randomInt(rand, 8);
      for (let e = 0; e < edits; e++) m[randomInt(rand, m.length)] = randomInt(rand, 256);
      const caplen = rand() < 0.3 ? randomInt(rand, m.length + 1) : m.length;
      kinds[check(m, dlt, caplen, rand() < 0.5 ? 0 : m.length, `mutation ${n}`).kind]++;
    }
    // Both outcomes must be exercised, or the mutations are not reaching the parsers.
    expect(kinds.packet).toBeGreaterThan(1000);
    expect(kinds.malformed).toBeGreaterThan(100);
  });

  it('20,000 random buffers of random length on every link type, and nonsense arguments', () => {
    const rand = seededRandom(SEED + 2);
    for (let n = 0; n < 20_000; n++) {
      const buf = new Uint8Array(randomInt(rand, 200));
      for (let i = 0; i < buf.length; i++) buf[i] = randomInt(rand, 256);
      // Make IP version nibbles plausible often enough to get past the link layer.
      if (buf.length > 0 && rand() < 0.5) buf[0] = (rand() < 0.5 ? 0x40 : 0x60) | (buf[0]! & 0x0f);
      check(buf, LINK_TYPES[n % LINK_TYPES.length]!, buf.length, buf.length, `random ${n}`);
    }
    const b = Buffer.alloc(10);
    for (const [caplen, wire] of [[-1, 0], [11, 11], [1.5, 2], [NaN, 0], [10, 5]] as const) {
      expect(check(b, 1, caplen, wire, `args ${caplen}/${wire}`)).toMatchObject({ kind: 'malformed', reason: 'bad-arguments' });
    }
  });
});

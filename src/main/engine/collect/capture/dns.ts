/**
 * What a DNS message says, reduced to names and addresses. Records are decoded one at a time
 * with dns-packet's per-section codecs rather than `decode()` on the whole message, so a
 * response cut short by the capture length still yields its question and the answers that
 * fit, and the sections nobody reads (authority, additional) cost nothing.
 */
import * as dnsPacket from 'dns-packet';

export type DnsAnswerType = 'A' | 'AAAA' | 'CNAME';

export interface DnsAnswer {
  name: string;
  type: DnsAnswerType;
  /** The address for A/AAAA, the target name for CNAME. */
  data: string;
}

export interface DnsSummary {
  isResponse: boolean;
  /** RFC 1035/6895 response code name: NOERROR, NXDOMAIN, SERVFAIL, ... */
  rcode: string;
  queries: string[];
  answers: DnsAnswer[];
  /** Some of the message was not captured, or a record could not be decoded. */
  partial: boolean;
}

interface RecordCodec<T> {
  decode: ((buf: Buffer, offset: number) => T) & { bytes: number };
}

// @types/dns-packet omits the per-record codecs that the package exports.
const codecs = dnsPacket as unknown as {
  question: RecordCodec<{ name: string }>;
  answer: RecordCodec<{ name: string; type: string; data?: unknown }>;
};

const RCODES = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET',
  'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI', 'RCODE_12', 'RCODE_13', 'RCODE_14', 'RCODE_15',
];

const HEADER_BYTES = 12;
// Opcodes above UPDATE (5) are unassigned or unused; seeing one means this is not DNS.
const MAX_OPCODE = 6;

/**
 * Summarizes the DNS message at `start` in `b`. `capEnd` is where captured bytes stop and
 * `wireEnd` where the message really ends; when they differ the summary is partial.
 * Returns null when there is no DNS header to read.
 */
export function summarizeDns(b: Uint8Array, start: number, capEnd: number, wireEnd: number): DnsSummary | null {
  const end = Math.min(capEnd, wireEnd);
  if (end - start < HEADER_BYTES) return null;
  const flags = ((b[start + 2] as number) << 8) | (b[start + 3] as number);
  if (((flags >> 11) & 0xf) > MAX_OPCODE) return null;
  const qdCount = ((b[start + 4] as number) << 8) | (b[start + 5] as number);
  const anCount = ((b[start + 6] as number) << 8) | (b[start + 7] as number);

  // A view, not a copy; name-compression offsets count from the message start.
  const view = Buffer.from(b.buffer, b.byteOffset + start, end - start);
  const queries: string[] = [];
  const answers: DnsAnswer[] = [];
  let partial = end < wireEnd;
  let off = HEADER_BYTES;
  try {
    for (let i = 0; i < qdCount; i++) {
      const q = codecs.question.decode(view, off);
      off += codecs.question.decode.bytes;
      if (off > view.length) throw new RangeError('question past the end');
      queries.push(q.name);
    }
    for (let i = 0; i < anCount; i++) {
      const a = codecs.answer.decode(view, off);
      off += codecs.answer.decode.bytes;
      // dns-packet reads A/AAAA data without checking the end, so a cut record reads "undefined".
      if (off > view.length) throw new RangeError('answer past the end');
      if ((a.type === 'A' || a.type === 'AAAA' || a.type === 'CNAME') && typeof a.data === 'string') {
        answers.push({ name: a.name, type: a.type, data: a.data });
      }
    }
  } catch {
    partial = true;
  }
  return { isResponse: (flags & 0x8000) !== 0, rcode: RCODES[flags & 0xf] as string, queries, answers, partial };
}

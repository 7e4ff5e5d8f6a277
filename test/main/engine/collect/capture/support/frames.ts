/** Decoded packets built from real frame bytes, for tests of what consumes the decoder's output. */
import * as dnsPacket from 'dns-packet';
import { decodePacket, type DecodedPacket } from '../../../../../../src/main/engine/collect/capture/decode';
import { LinkType } from '../../../../../../src/main/engine/collect/capture/linkType';
import { ethernet, ipv4, tcp, udp } from './packets';

function decoded(frame: Buffer, ts: number): DecodedPacket {
  const r = decodePacket(frame, LinkType.EN10MB, frame.length, frame.length, ts);
  if (r.kind !== 'packet') throw new Error(r.reason);
  return r;
}

export function tcpPacket(o: { src: string; dst: string; sport: number; dport: number; flags: number; ts: number; payload?: Buffer }): DecodedPacket {
  return decoded(ethernet(0x0800, ipv4({ src: o.src, dst: o.dst, proto: 6, payload: tcp({ sport: o.sport, dport: o.dport, flags: o.flags, payload: o.payload }) })), o.ts);
}

export function udpPacket(o: { src: string; dst: string; sport: number; dport: number; ts: number; payload?: Buffer }): DecodedPacket {
  return decoded(ethernet(0x0800, ipv4({ src: o.src, dst: o.dst, proto: 17, payload: udp({ sport: o.sport, dport: o.dport, payload: o.payload ?? Buffer.from('x') }) })), o.ts);
}

export function dnsQueryPacket(o: { src: string; dst: string; sport: number; name: string; ts: number }): DecodedPacket {
  const msg = dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: o.name }] });
  return udpPacket({ src: o.src, dst: o.dst, sport: o.sport, dport: 53, ts: o.ts, payload: msg });
}

export function dnsAnswerPacket(o: { src: string; dst: string; dport: number; name: string; address: string; ts: number }): DecodedPacket {
  const msg = dnsPacket.encode({ type: 'response', id: 7, questions: [{ type: 'A', name: o.name }], answers: [{ type: 'A', name: o.name, ttl: 30, data: o.address }] });
  return udpPacket({ src: o.src, dst: o.dst, sport: 53, dport: o.dport, ts: o.ts, payload: msg });
}

/** A response saying the name does not exist (NXDOMAIN): no answer, only the question. */
export function dnsFailurePacket(o: { src: string; dst: string; dport: number; name: string; ts: number }): DecodedPacket {
  const msg = dnsPacket.encode({ type: 'response', id: 7, flags: 3, questions: [{ type: 'A', name: o.name }] });
  return udpPacket({ src: o.src, dst: o.dst, sport: 53, dport: o.dport, ts: o.ts, payload: msg });
}

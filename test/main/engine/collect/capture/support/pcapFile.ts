/** Reads classic libpcap files (as `tcpdump -w` writes them), microsecond or nanosecond flavour. */
import { readFileSync } from 'node:fs';

export interface PcapRecord {
  tsMs: number;
  caplen: number;
  wireLen: number;
  data: Buffer;
}

export interface PcapFile {
  linkType: number;
  snaplen: number;
  records: PcapRecord[];
}

export function readPcap(file: string): PcapFile {
  const b = readFileSync(file);
  if (b.length < 24) throw new Error(`${file}: no pcap header (${b.length} bytes)`);
  const magicLE = b.readUInt32LE(0);
  const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const magic = le ? magicLE : b.readUInt32BE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
  const fracPerMs = magic === 0xa1b23c4d ? 1e6 : 1e3;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const records: PcapRecord[] = [];
  let off = 24;
  while (off + 16 <= b.length) {
    const caplen = u32(off + 8);
    if (off + 16 + caplen > b.length) break; // tcpdump killed mid-write
    records.push({ tsMs: u32(off) * 1000 + u32(off + 4) / fracPerMs, caplen, wireLen: u32(off + 12), data: b.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  return { linkType: u32(20) & 0x0fffffff, snaplen: u32(16), records };
}

/**
 * Run with --expose-gc by the GC-safety test: captures its own UDP traffic on loopback while
 * forcing garbage collections, having dropped every reference to the capture object, then
 * prints one JSON line comparing what it sent with what it decoded.
 */
import dgram from 'node:dgram';
import { openLiveCapture } from '../../../../../../src/main/engine/collect/capture/liveCapture';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('needs --expose-gc');
const iface = process.argv[2] ?? 'lo';
const ROUNDS = 40;
const PER_ROUND = 100;

const sock = dgram.createSocket('udp4');
sock.bind(0, '127.0.0.1', () => void run());

async function run(): Promise<void> {
  const port = sock.address().port;
  const got: number[] = [];
  let malformed = 0;
  let wrongPorts = 0;
  // The returned LiveCapture is deliberately not kept: the open capture must keep itself (and
  // the buffer libpcap writes into) alive.
  openLiveCapture({
    iface,
    filter: `udp and src port ${port} and dst port ${port}`,
    batchSize: 32,
    flushIntervalMs: 5,
    onBatch: (b) => {
      malformed += b.malformed.length;
      for (const p of b.packets) {
        if (p.srcPort !== port || p.dstPort !== port) wrongPorts++;
        got.push(p.length);
      }
    },
  });
  const sent: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < PER_ROUND; i++) {
      const size = (r * 7 + i * 13) % 300;
      sent.push(size);
      sock.send(Buffer.alloc(size, r), port, '127.0.0.1');
    }
    // Short-lived garbage, so scavenges run between the forced full collections.
    const junk: string[][] = [];
    for (let k = 0; k < 30; k++) junk.push(new Array(2000).fill(k).map(String));
    junk.length = 0;
    gc!();
    const until = Date.now() + 3000;
    while (got.length < sent.length && Date.now() < until) await new Promise((res) => setTimeout(res, 5));
  }
  const linkAndHeaders = got.length ? Math.min(...got) - Math.min(...sent) : 0;
  const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const same = JSON.stringify(sortNum(got)) === JSON.stringify(sortNum(sent.map((s) => s + linkAndHeaders)));
  console.log(JSON.stringify({ sent: sent.length, got: got.length, malformed, wrongPorts, sameLengths: same, headerBytes: linkAndHeaders }));
  process.exit(0);
}

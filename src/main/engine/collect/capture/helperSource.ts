/**
 * Frames from the capture helper (native/capture/portent-capture.c): the one small program that
 * holds the right to capture. It opens the capture, gives up every privilege, and copies what
 * libpcap hands it to its stdout; this module starts it, reads that stream and hands each frame
 * to the decoder in this (unprivileged) process. The helper never parses a packet, so a
 * malformed one can only ever reach code that runs without privileges.
 *
 * The stream (little-endian): a 16-byte header ("PTCAP", version, 2 zero bytes, u32 link type,
 * u32 snaplen), then records: 'P' + u32 captured length + u32 wire length + u32 seconds + u32
 * microseconds + the bytes, and 'S' + u32 ps_recv + u32 ps_drop + u32 ps_ifdrop at least every
 * second. Closing the helper's stdin ends the capture; it copies what is left, writes its last
 * stats and exits 0.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { PcapStats } from './capBinding';
import { CaptureError, classifyOpenError } from './captureErrors';
import { HELPER_PROTOCOL_VERSION } from './captureHelper';
import { listCaptureInterfaces } from './interfaces';
import { portentLine } from '../../invocation';

const HEADER_BYTES = 16;
const PACKET_HEADER_BYTES = 17;
const STATS_BYTES = 13;
const MAGIC = 'PTCAP';
/** What is kept of the helper's stderr (its one-line reasons). */
const STDERR_LIMIT = 4096;
/** How long stop() waits for the helper to finish before it is killed. */
const STOP_GRACE_MS = 3000;

/** One captured frame: `frame` holds exactly the captured bytes and is only valid during the call. */
export type FrameListener = (frame: Buffer, caplen: number, wireLen: number, tsMs: number) => void;

export interface HelperOpenOptions {
  iface: string;
  filter: string;
  snaplen: number;
  bufferSize: number;
  bufferTimeoutMs: number;
  immediate: boolean;
  onFrame: FrameListener;
  /** The helper ended on its own (crashed, killed, or libpcap failed) while capturing. */
  onFailure: (message: string) => void;
}

/** Incremental parser of the helper's stdout; exported for its tests. */
export class HelperStream {
  private rest: Buffer = Buffer.alloc(0);
  header: { linkType: number; snaplen: number } | null = null;
  stats: PcapStats | null = null;

  constructor(private readonly onFrame: FrameListener) {}

  /** Takes the next chunk of the stream. Throws on a stream Portent's helper would not write. */
  push(chunk: Buffer): void {
    const buf = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    let at = 0;
    if (this.header === null) {
      if (buf.length < HEADER_BYTES) {
        this.rest = buf;
        return;
      }
      if (buf.toString('latin1', 0, 5) !== MAGIC) throw new Error('the capture helper wrote something other than its stream (wrong program?)');
      const version = buf[5];
      if (version !== HELPER_PROTOCOL_VERSION) {
        throw new Error(`the capture helper speaks version ${version}, this Portent version ${HELPER_PROTOCOL_VERSION}: install the helper of this version (capture-setup)`);
      }
      this.header = { linkType: buf.readUInt32LE(8), snaplen: buf.readUInt32LE(12) };
      at = HEADER_BYTES;
    }
    const maxFrame = this.header.snaplen;
    while (at < buf.length) {
      const type = buf[at];
      if (type === 0x50) {
        if (buf.length - at < PACKET_HEADER_BYTES) break;
        const caplen = buf.readUInt32LE(at + 1);
        if (caplen > maxFrame) throw new Error(`the capture helper sent a ${caplen}-byte frame, more than its snaplen ${maxFrame}`);
        if (buf.length - at < PACKET_HEADER_BYTES + caplen) break;
        const wireLen = buf.readUInt32LE(at + 5);
        const tsMs = buf.readUInt32LE(at + 9) * 1000 + buf.readUInt32LE(at + 13) / 1000;
        const start = at + PACKET_HEADER_BYTES;
        this.onFrame(buf.subarray(start, start + caplen), caplen, wireLen, tsMs);
        at = start + caplen;
      } else if (type === 0x53) {
        if (buf.length - at < STATS_BYTES) break;
        this.stats = { ps_recv: buf.readUInt32LE(at + 1), ps_drop: buf.readUInt32LE(at + 5), ps_ifdrop: buf.readUInt32LE(at + 9) };
        at += STATS_BYTES;
      } else {
        throw new Error(`the capture helper's stream is corrupt (record type ${type} at byte ${at})`);
      }
    }
    // Keep only the unfinished record (a copy, so the chunk it came in can be collected).
    this.rest = at >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
  }
}

/** A capture running in the helper. */
export class HelperSource {
  private ended: Promise<void>;
  private stopping = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly stream: HelperStream,
    readonly linkType: number,
    readonly snaplen: number,
    exited: Promise<void>,
  ) {
    this.ended = exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** pcap_stats() as the helper last sent them (at least every second). */
  stats(): PcapStats | null {
    return this.stream.stats && { ...this.stream.stats };
  }

  /** Ends the capture: resolves once the helper has copied what was left and exited. */
  close(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.child.stdin.end();
      const kill = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      void this.ended.finally(() => clearTimeout(kill));
    }
    return this.ended;
  }

  /**
   * Starts the helper at `helper` and waits for its stream's header. Throws a CaptureError with
   * the helper's reason when it cannot capture (no such interface, no permission, bad filter).
   */
  static open(helper: string, o: HelperOpenOptions): Promise<HelperSource> {
    const args = ['--interface', o.iface, '--snaplen', String(o.snaplen), '--buffer-bytes', String(o.bufferSize), '--timeout-ms', String(o.bufferTimeoutMs)];
    if (o.filter !== '') args.push('--filter', o.filter);
    if (o.immediate) args.push('--immediate');
    return new Promise((resolve, reject) => {
      let child: ChildProcessWithoutNullStreams;
      try {
        child = spawn(helper, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (e) {
        reject(spawnError(e, helper, o.iface));
        return;
      }
      let stderr = '';
      let opened: HelperSource | null = null;
      let failed: string | null = null;
      const stream = new HelperStream(o.onFrame);
      let exitedResolve: () => void = () => undefined;
      const exited = new Promise<void>((r) => (exitedResolve = r));

      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
      });
      child.stdin.on('error', () => undefined);
      child.stdout.on('data', (chunk: Buffer) => {
        if (failed !== null) return;
        try {
          stream.push(chunk);
        } catch (e) {
          failed = (e as Error).message;
          child.kill('SIGKILL');
          return;
        }
        if (opened === null && stream.header) {
          opened = new HelperSource(child, stream, stream.header.linkType, stream.header.snaplen, exited);
          resolve(opened);
        }
      });
      child.on('error', (e) => {
        failed ??= e.message;
        if (opened === null) reject(spawnError(e, helper, o.iface));
      });
      child.on('close', (code, signal) => {
        exitedResolve();
        const reason = failed ?? helperReason(stderr) ?? `the capture helper exited (${signal ?? `code ${code}`})`;
        if (opened === null) {
          reject(openError(stderr, reason, helper, o.iface, o.filter));
        } else if (!opened.stopping) {
          o.onFailure(reason);
        }
      });
    });
  }
}

/** The helper's "portent-capture: KIND: message" line, as "KIND: message". */
function helperReason(stderr: string): string | null {
  const line = stderr.split('\n').find((l) => l.startsWith('portent-capture: '));
  return line ? line.slice('portent-capture: '.length).trim() : null;
}

function openError(stderr: string, fallback: string, helper: string, iface: string, filter: string): CaptureError {
  const line = helperReason(stderr);
  const m = line ? /^([a-z-]+): (.*)$/.exec(line) : null;
  const kind = m?.[1] ?? '';
  const detail = m?.[2] ?? fallback;
  if (kind === 'no-such-interface') {
    const known = listCaptureInterfaces().map((i) => i.name);
    return new CaptureError('no-such-interface', iface, `packet capture is off: unknown interface "${iface}"; available: ${known.join(', ') || '(none)'}`, [], detail);
  }
  if (kind === 'bad-filter') return new CaptureError('bad-filter', iface, `packet capture is off: invalid capture filter "${filter}" (${detail})`, [], detail);
  if (kind === 'permission-denied') return classifyOpenError(new Error(`permission denied: ${detail}`), iface, filter, false, process.platform, helper);
  return new CaptureError('open-failed', iface, `packet capture is off: the capture helper ${helper} cannot open ${iface} (${detail})`, [], detail);
}

function spawnError(e: unknown, helper: string, iface: string): CaptureError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EACCES') {
    return classifyOpenError(new Error(`permission denied: this user may not run ${helper}`), iface, '', false, process.platform, helper);
  }
  if (err.code === 'ENOENT') {
    return new CaptureError('binding-unavailable', iface, `packet capture is off: the capture helper ${helper} does not exist`, [`Install it again, as root: \`${portentLine('capture-setup --group GROUP')}\` (docs/service.md).`], err.message);
  }
  return new CaptureError('open-failed', iface, `packet capture is off: cannot start the capture helper ${helper} (${err.message})`, [], err.message);
}

/**
 * A live libpcap capture that decodes every packet as it arrives and hands the results over in
 * batches. Only headers and DNS names leave this module; payload bytes stay in one reused
 * buffer that is overwritten by the next packet.
 *
 * Where it runs: cap registers its poll handle on the process's default libuv loop, so it
 * cannot live in a worker thread, and it drains the kernel ring in one synchronous loop per
 * wake-up, so a flood keeps the hosting event loop busy for as long as the flood outpaces the
 * decoder. Decoding is therefore kept cheap (about a microsecond a packet, no payload copies)
 * and the capture belongs in its own process (see captureProcess.ts), never in the process that
 * draws the tray and window.
 */
import { decodePacket, type DecodedPacket, type Malformed } from './decode';
import { isPatched, loadCap, openHandle, type CapBinding, type CapHandle, type CapOpenOptions, type PacketListener, type PcapStats } from './capBinding';
import { CaptureError, classifyOpenError } from './captureErrors';
import { HelperSource, type FrameListener } from './helperSource';
import { isSupportedLinkType, linkTypeFromCap } from './linkType';

/**
 * Bytes kept of each packet, in the kernel ring and in the copy to JavaScript. 1536 holds a full
 * Ethernet frame, hence a whole DNS response of up to the 1232-byte EDNS size recommended since
 * DNS Flag Day 2020 behind the largest usual headers (Ethernet + 2 VLAN tags + IPv6 + extension
 * header + UDP < 120 bytes). 256 would hold every header but cut most DNS responses short.
 */
export const DEFAULT_SNAPLEN = 1536;
/**
 * Kernel ring size, the default of the `capture.bufferMb` setting. With immediate mode off, Linux
 * uses TPACKET_V3: packets are packed into blocks by their captured size (~130 bytes for a small
 * UDP packet on loopback), so 32 MiB holds about 250,000 small packets or 20,000 full frames,
 * seconds of a flood. The whole ring stays resident while capture is on (in the capture helper,
 * or in the capture process when it opens the capture itself), a fifth of the idle app's memory;
 * but with 8 or 16 MiB `bench/capture.ts` saw the kernel drop packets in its floods on a loaded
 * two-core machine and with 32 MiB it did not (docs/architecture.md, "Footprint at idle"). (Cap
 * as published forces immediate mode and TPACKET_V2, whose slots are sized for the largest
 * packet, 64 KiB on loopback: the same 32 MiB would be ~500 slots, 5 ms of 100k packets/s.)
 */
export const DEFAULT_BUFFER_SIZE = 32 * 1024 * 1024;
/**
 * Longest a captured packet waits in a partly filled kernel block before the block is handed
 * over (immediate mode off). Wake-ups are at most 1000 / this a second when traffic
 * is light, and one per full block in floods; reports lose nothing by it (a packet still in the
 * kernel at a report goes into the next one), only the last few ms are lost when capture stops.
 */
export const DEFAULT_BUFFER_TIMEOUT_MS = 20;
export const DEFAULT_BATCH_SIZE = 1024;
export const DEFAULT_FLUSH_INTERVAL_MS = 250;

export interface PacketBatch {
  packets: DecodedPacket[];
  malformed: Malformed[];
}

export interface CaptureCounters {
  /** Packets libpcap delivered. */
  seen: number;
  decoded: number;
  malformed: number;
  /** Decoded packets longer than the snaplen (headers still decoded; DNS may be partial). */
  truncated: number;
  /** Packets the kernel dropped for lack of room in the ring (pcap_stats ps_drop); null before the first reading. */
  kernelDrops: number | null;
  batches: number;
  /** Errors thrown by the onBatch callback (caught so they cannot unwind into libpcap). */
  callbackErrors: number;
}

export interface LiveCaptureOptions {
  iface: string;
  /** BPF filter expression; empty for everything. */
  filter?: string;
  snaplen?: number;
  bufferSize?: number;
  /** See DEFAULT_BUFFER_TIMEOUT_MS. */
  bufferTimeoutMs?: number;
  /** Hand over every packet as it arrives (one wake-up each): lower latency, more CPU. */
  immediate?: boolean;
  /** Packets per onBatch call at most. */
  batchSize?: number;
  /** Longest time a decoded packet waits before its batch is handed over. */
  flushIntervalMs?: number;
  onBatch: (batch: PacketBatch) => void;
  onCallbackError?: (err: unknown) => void;
}

/**
 * Where frames come from: cap in this process (which then needs the right to capture itself), or
 * the capture helper (helperSource.ts), which alone holds that right.
 */
interface FrameSource {
  readonly linkType: number;
  /** pcap_stats() since the open, as last known; null before any reading. */
  stats(): PcapStats | null;
  /** Ends the capture; resolves once the last frame has been delivered. */
  close(): Promise<void>;
}

/**
 * Opens a capture with cap in this process. Throws a CaptureError (kind permission-denied,
 * bad-filter, no-such-interface, binding-unavailable, unsupported-link-type or open-failed).
 */
export function openLiveCapture(options: LiveCaptureOptions): LiveCapture {
  let binding: CapBinding;
  try {
    binding = loadCap();
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new CaptureError('binding-unavailable', options.iface, `packet capture is off: the libpcap binding (cap) cannot be loaded (${detail})`, [
      'Install libpcap (Debian/Ubuntu: apt install libpcap0.8) and reinstall Portent.',
    ], detail);
  }
  requirePatched(binding, options.iface);
  const capture = new LiveCapture(options);
  capture.attach(openCapSource(binding, capture, options));
  return capture;
}

/**
 * Opens a capture through the capture helper at `helper` (see helperSource.ts): this process
 * needs no privilege and does not load cap. Throws a CaptureError as openLiveCapture does.
 */
export async function openHelperCapture(helper: string, options: LiveCaptureOptions & { onFailure: (message: string) => void }): Promise<LiveCapture> {
  const capture = new LiveCapture(options);
  const source = await HelperSource.open(helper, {
    iface: options.iface,
    filter: capture.filter,
    snaplen: capture.snaplen,
    bufferSize: options.bufferSize ?? DEFAULT_BUFFER_SIZE,
    bufferTimeoutMs: options.bufferTimeoutMs ?? DEFAULT_BUFFER_TIMEOUT_MS,
    immediate: options.immediate ?? false,
    onFrame: capture.onFrame,
    onFailure: options.onFailure,
  });
  if (!isSupportedLinkType(source.linkType)) {
    await source.close();
    throw new CaptureError('unsupported-link-type', options.iface, `packet capture is off: ${options.iface} has link type ${source.linkType}, which Portent cannot decode`);
  }
  capture.attach(source);
  return capture;
}

/**
 * Checked at every open: cap as published corrupts the event loop when a handle is closed or
 * collected (see capBinding.ts), so Portent does not capture with it at all.
 */
export function requirePatched(binding: CapBinding, iface: string): void {
  if (isPatched(binding)) return;
  throw new CaptureError('binding-unavailable', iface, "packet capture is off: the loaded cap is not Portent's patched build (patches/cap+0.2.1.patch was not applied at install)", [
    'Run `node scripts/patch-cap.mjs` in Portent\'s folder (npm ci runs it), or reinstall Portent.',
  ]);
}

function openCapSource(binding: CapBinding, capture: LiveCapture, options: LiveCaptureOptions): FrameSource {
  const iface = capture.iface;
  const filter = capture.filter;
  let known: string[];
  try {
    known = binding.Cap.deviceList().map((d) => d.name);
  } catch (e) {
    throw classifyOpenError(e, iface, filter, false);
  }
  if (!known.includes(iface)) {
    throw new CaptureError('no-such-interface', iface, `packet capture is off: unknown interface "${iface}"; available: ${known.join(', ') || '(none)'}`);
  }
  const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
  const openOptions: CapOpenOptions = { snaplen: capture.snaplen, timeout: options.bufferTimeoutMs ?? DEFAULT_BUFFER_TIMEOUT_MS, immediate: options.immediate ?? false };
  // cap copies each packet here (the patched handle holds a reference while open).
  const buffer = Buffer.alloc(capture.snaplen);
  let opened: { handle: CapHandle; linkName: string };
  try {
    opened = openHandle(binding, iface, filter, bufferSize, buffer, openOptions);
  } catch (e) {
    throw classifyOpenError(e, iface, filter, filter !== '' && opensWithoutFilter(binding, iface, openOptions));
  }
  const { handle, linkName } = opened;
  const dlt = linkTypeFromCap(linkName);
  if (dlt === null || !isSupportedLinkType(dlt)) {
    handle.close();
    throw new CaptureError('unsupported-link-type', iface, `packet capture is off: ${iface} has link type ${linkName}, which Portent cannot decode`);
  }
  const onFrame = capture.onFrame;
  const onPacket: PacketListener = (nbytes, _truncated, wireLen, tsMs) => onFrame(buffer, nbytes, wireLen, tsMs);
  handle.on('packet', onPacket);
  let open = true;
  let last: PcapStats | null = null;
  return {
    linkType: dlt,
    stats: () => {
      if (open) {
        try {
          last = handle.stats();
        } catch {
          // Not open any more: keep the last reading.
        }
      }
      return last;
    },
    close: () => {
      if (open) {
        open = false;
        handle.removeListener('packet', onPacket);
        handle.close();
      }
      return Promise.resolve();
    },
  };
}

export class LiveCapture {
  readonly iface: string;
  readonly filter: string;
  readonly snaplen: number;
  linkType = -1;
  private source: FrameSource | null = null;
  private closing: Promise<void> | null = null;
  /** pcap_stats() as last read; kept after stop(), when the source can no longer be asked. */
  private lastStats: PcapStats | null = null;
  private readonly batchSize: number;
  private readonly onBatch: (batch: PacketBatch) => void;
  private readonly onCallbackError: ((err: unknown) => void) | undefined;
  private readonly flushIntervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private packets: DecodedPacket[] = [];
  private faults: Malformed[] = [];
  private readonly stats: CaptureCounters = {
    seen: 0,
    decoded: 0,
    malformed: 0,
    truncated: 0,
    kernelDrops: null,
    batches: 0,
    callbackErrors: 0,
  };

  /** Use openLiveCapture or openHelperCapture. */
  constructor(options: LiveCaptureOptions) {
    this.iface = options.iface;
    this.filter = options.filter ?? '';
    this.snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(this.snaplen) || this.snaplen < 64 || this.snaplen > 65535) {
      throw new RangeError(`snaplen must be an integer from 64 to 65535, got ${this.snaplen}`);
    }
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
    this.onBatch = options.onBatch;
    this.onCallbackError = options.onCallbackError;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  }

  /** Starts handing over what `source` captures. */
  attach(source: FrameSource): void {
    if (this.source || this.closing) throw new Error('this capture already has a source');
    this.source = source;
    this.linkType = source.linkType;
    this.timer = setInterval(() => this.flush(), this.flushIntervalMs);
    // The open capture keeps the process alive by itself; the flush timer should not.
    this.timer.unref();
  }

  get running(): boolean {
    return this.source !== null;
  }

  counters(): CaptureCounters {
    this.readStats();
    return { ...this.stats };
  }

  /** pcap_stats() since the capture opened (the last reading once stopped); null before any. */
  pcapStats(): PcapStats | null {
    this.readStats();
    return this.lastStats && { ...this.lastStats };
  }

  /** Hands over whatever is decoded and waiting, now. */
  flush(): void {
    if (this.packets.length === 0 && this.faults.length === 0) return;
    const batch: PacketBatch = { packets: this.packets, malformed: this.faults };
    this.packets = [];
    this.faults = [];
    this.stats.batches++;
    try {
      this.onBatch(batch);
    } catch (e) {
      // An exception here would unwind into cap's native dispatch loop and end the process.
      this.stats.callbackErrors++;
      this.onCallbackError?.(e);
    }
  }

  /**
   * Closes the capture and delivers the last batch. With cap, everything is delivered when this
   * returns; with the helper, frames still in its pipe arrive until the promise resolves.
   * Safe to call twice, and from onBatch.
   */
  stop(): Promise<void> {
    const source = this.source;
    if (!source) return this.closing ?? Promise.resolve();
    this.readStats();
    this.source = null;
    if (this.timer) clearInterval(this.timer);
    const closed = source.close();
    this.flush();
    this.closing = closed.then(() => {
      this.takeStats(source);
      this.flush();
    });
    return this.closing;
  }

  private readStats(): void {
    if (this.source) this.takeStats(this.source);
  }

  private takeStats(source: FrameSource): void {
    const s = source.stats();
    if (s === null) return;
    this.lastStats = s;
    this.stats.kernelDrops = s.ps_drop;
  }

  /** Decodes one captured frame (`frame` holds `caplen` captured bytes from its start). */
  readonly onFrame: FrameListener = (frame, caplen, wireLen, tsMs) => {
    const stats = this.stats;
    stats.seen++;
    const r = decodePacket(frame, this.linkType, caplen, wireLen, tsMs);
    if (r.kind === 'packet') {
      stats.decoded++;
      if (r.truncated) stats.truncated++;
      this.packets.push(r);
    } else {
      stats.malformed++;
      this.faults.push(r);
    }
    if (this.packets.length + this.faults.length >= this.batchSize) this.flush();
  };
}

const PROBE_RING_BYTES = 256 * 1024;

/** Tells a bad filter from other failures: if the interface opens without it, the filter was the problem. */
function opensWithoutFilter(binding: CapBinding, iface: string, options: CapOpenOptions): boolean {
  try {
    openHandle(binding, iface, '', PROBE_RING_BYTES, Buffer.alloc(64), options).handle.close();
    return true;
  } catch {
    return false;
  }
}

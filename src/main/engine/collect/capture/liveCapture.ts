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
import { isPatched, loadCap, openHandle, type CapBinding, type CapHandle, type CapOpenOptions, type PcapStats } from './capBinding';
import { CaptureError, classifyOpenError } from './captureErrors';
import { isSupportedLinkType, linkTypeFromCap } from './linkType';

/**
 * Bytes kept of each packet, in the kernel ring and in the copy to JavaScript. 1536 holds a full
 * Ethernet frame, hence a whole DNS response of up to the 1232-byte EDNS size recommended since
 * DNS Flag Day 2020 behind the largest usual headers (Ethernet + 2 VLAN tags + IPv6 + extension
 * header + UDP < 120 bytes). 256 would hold every header but cut most DNS responses short.
 */
export const DEFAULT_SNAPLEN = 1536;
/**
 * Kernel ring size. With immediate mode off, Linux uses TPACKET_V3: packets are
 * packed into blocks by their captured size (~130 bytes for a small UDP packet on loopback), so
 * 32 MiB holds about 250,000 small packets or 20,000 full frames, seconds of a flood. (Cap as
 * published forces immediate mode and TPACKET_V2, whose slots are sized for the largest packet,
 * 64 KiB on loopback: the same 32 MiB would be ~500 slots, 5 ms of 100k packets/s.)
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
 * Opens a capture. Throws a CaptureError (kind permission-denied, bad-filter,
 * no-such-interface, binding-unavailable, unsupported-link-type or open-failed).
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
  return new LiveCapture(binding, options);
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

export class LiveCapture {
  readonly iface: string;
  readonly filter: string;
  readonly snaplen: number;
  readonly linkType: number;
  private handle: CapHandle | null;
  /** pcap_stats() as last read; kept after stop(), when the handle can no longer be asked. */
  private lastStats: PcapStats | null = null;
  /** cap copies each packet here (the patched handle holds a reference while open). */
  private readonly buffer: Buffer;
  private readonly batchSize: number;
  private readonly onBatch: (batch: PacketBatch) => void;
  private readonly onCallbackError: ((err: unknown) => void) | undefined;
  private readonly timer: NodeJS.Timeout;
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

  constructor(binding: CapBinding, options: LiveCaptureOptions) {
    this.iface = options.iface;
    this.filter = options.filter ?? '';
    this.snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(this.snaplen) || this.snaplen < 64 || this.snaplen > 65535) {
      throw new RangeError(`snaplen must be an integer from 64 to 65535, got ${this.snaplen}`);
    }
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
    this.onBatch = options.onBatch;
    this.onCallbackError = options.onCallbackError;
    this.buffer = Buffer.alloc(this.snaplen);

    let known: string[];
    try {
      known = binding.Cap.deviceList().map((d) => d.name);
    } catch (e) {
      throw classifyOpenError(e, this.iface, this.filter, false);
    }
    if (!known.includes(this.iface)) {
      throw new CaptureError('no-such-interface', this.iface, `packet capture is off: unknown interface "${this.iface}"; available: ${known.join(', ') || '(none)'}`);
    }
    const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
    const openOptions: CapOpenOptions = { snaplen: this.snaplen, timeout: options.bufferTimeoutMs ?? DEFAULT_BUFFER_TIMEOUT_MS, immediate: options.immediate ?? false };
    let opened: { handle: CapHandle; linkName: string };
    try {
      opened = openHandle(binding, this.iface, this.filter, bufferSize, this.buffer, openOptions);
    } catch (e) {
      throw classifyOpenError(e, this.iface, this.filter, this.filter !== '' && opensWithoutFilter(binding, this.iface, openOptions));
    }
    const { handle, linkName } = opened;
    const dlt = linkTypeFromCap(linkName);
    if (dlt === null || !isSupportedLinkType(dlt)) {
      handle.close();
      throw new CaptureError('unsupported-link-type', this.iface, `packet capture is off: ${this.iface} has link type ${linkName}, which Portent cannot decode`);
    }
    this.linkType = dlt;
    this.handle = handle;
    handle.on('packet', this.onPacket);
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
    // The open capture keeps the process alive by itself; the flush timer should not.
    this.timer.unref();
  }

  get running(): boolean {
    return this.handle !== null;
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

  /** Closes the capture and delivers the last batch. Safe to call twice, and from onBatch. */
  stop(): void {
    const handle = this.handle;
    if (!handle) return;
    this.readStats();
    this.handle = null;
    clearInterval(this.timer);
    handle.removeListener('packet', this.onPacket);
    handle.close();
    this.flush();
  }

  private readStats(): void {
    if (!this.handle) return;
    try {
      this.lastStats = this.handle.stats();
      this.stats.kernelDrops = this.lastStats.ps_drop;
    } catch {
      // Not open any more: keep the last reading.
    }
  }

  private readonly onPacket = (nbytes: number, _truncated: boolean, wireLen: number, tsMs: number): void => {
    const stats = this.stats;
    stats.seen++;
    const r = decodePacket(this.buffer, this.linkType, nbytes, wireLen, tsMs);
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

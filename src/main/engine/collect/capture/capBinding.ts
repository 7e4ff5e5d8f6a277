/**
 * Typed access to the `cap` libpcap binding, loaded on first use: a machine without libpcap
 * (or with a binding built for another Node) then loses packet capture, not the whole engine.
 *
 * Portent carries a patch to cap 0.2.1 (patches/cap+0.2.1.patch, applied and rebuilt by
 * scripts/patch-cap.mjs at install, production installs included). With it:
 * - `open()` takes a 5th argument `{snaplen, timeout, immediate}`: the kernel snapshot length,
 *   libpcap's buffer timeout, and immediate mode (off here: TPACKET_V3 blocks on Linux, packed
 *   densely and handed over when full or after `timeout` ms);
 * - each 'packet' event also carries the wire length and libpcap's timestamp (ms);
 * - `stats()` returns pcap_stats() (`ps_recv`, `ps_drop`, `ps_ifdrop`);
 * - the Buffer given to `open()` is held by the handle while open, the poll handle is
 *   uv_close()d on close (the object lives until libuv is done with it), and a failed `open()`
 *   closes what it opened, so a handle may be dropped and collected like any object.
 *
 * Cap as published holds the Buffer by raw pointer only and never uv_close()s its uv_poll_t, so
 * a collected handle corrupts the loop's handle list and a `close()` after a failed `open()`
 * touches an uninitialized one. Portent does not capture with it: liveCapture.ts checks at every
 * open that the loaded cap is the patched build (isPatched) and reports capture off otherwise.
 *
 * The poll handle is registered on uv_default_loop(), so capture only works on the
 * main thread of a process, never inside a worker thread.
 */
import { createRequire } from 'node:module';

export interface PcapAddress {
  addr?: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

export interface PcapDevice {
  name: string;
  description?: string;
  addresses: PcapAddress[];
  flags?: string;
}

/** `wireLen` and `tsMs` (libpcap's timestamp, ms since the epoch) come with the patch. */
export type PacketListener = (nbytes: number, truncated: boolean, wireLen: number, tsMs: number) => void;

/** The patch's 5th `open()` argument. */
export interface CapOpenOptions {
  /** Kernel snapshot length (bytes kept per packet in the ring). */
  snaplen: number;
  /** Longest wait, ms, before a partly filled buffer is handed over (without immediate mode). */
  timeout: number;
  immediate: boolean;
}

/** pcap_stats(): counts since the capture opened, as libpcap defines them for the platform. */
export interface PcapStats {
  ps_recv: number;
  /** Dropped for lack of room in the capture buffer. */
  ps_drop: number;
  /** Dropped by the interface or its driver (not by the capture). */
  ps_ifdrop: number;
}

export interface CapHandle {
  /** Returns the link type as a name ('ETHERNET', ...) or 'Unknown linktype N'. */
  open(device: string, filter: string, bufferSize: number, buffer: Buffer, options?: CapOpenOptions): string;
  close(): boolean;
  /** Throws when the handle is not open. */
  stats(): PcapStats;
  on(event: 'packet', listener: PacketListener): this;
  removeListener(event: 'packet', listener: PacketListener): this;
}

export interface CapBinding {
  Cap: {
    new (): CapHandle;
    deviceList(): PcapDevice[];
    prototype: Partial<CapHandle>;
  };
}

let loaded: CapBinding | undefined;
let loadError: Error | undefined;

/** The binding, or throws the reason it cannot be loaded (the same reason on every call). */
export function loadCap(): CapBinding {
  if (loaded) return loaded;
  if (loadError) throw loadError;
  try {
    loaded = createRequire(import.meta.url)('cap') as CapBinding;
    return loaded;
  } catch (e) {
    loadError = e instanceof Error ? e : new Error(String(e));
    throw loadError;
  }
}

/** Whether the loaded cap carries Portent's patch (see the top of this file). */
export function isPatched(binding: CapBinding): boolean {
  return typeof binding.Cap.prototype.stats === 'function';
}

/**
 * Opens a new handle on a patched cap. On failure libpcap's error is rethrown and the handle
 * must not be used again.
 */
export function openHandle(
  binding: CapBinding,
  iface: string,
  filter: string,
  bufferSize: number,
  buffer: Buffer,
  options: CapOpenOptions,
): { handle: CapHandle; linkName: string } {
  const handle = new binding.Cap();
  return { handle, linkName: handle.open(iface, filter, bufferSize, buffer, options) };
}

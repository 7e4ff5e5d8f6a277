/**
 * Typed access to the `cap` libpcap binding, loaded on first use: a machine without libpcap
 * (or with a binding built for another Node) then loses packet capture, not the whole engine.
 *
 * Facts about cap 0.2.1 that shape the rest of this folder (read from its src/binding.cc):
 * - `open()` keeps a raw pointer into the Buffer it is given and copies every packet there, but
 *   holds no reference to it: the caller must keep the Buffer alive while the capture is open,
 *   or the garbage collector frees it and libpcap writes into freed memory.
 * - The kernel snapshot length is fixed at 65535 and promiscuous and immediate mode are on; the
 *   Buffer's length only limits what is copied to JavaScript.
 * - Each packet is one synchronous 'packet' event (captured length, truncated flag). There is
 *   no timestamp, no wire length and no pcap_stats(), so kernel drops cannot be read.
 * - The poll handle is registered on uv_default_loop(), so it only works on the main thread of
 *   a process, never inside a worker thread.
 * - A handle's uv_poll_t is started by `open()` but never uv_close()d, so it stays linked in the
 *   loop's handle list after `close()`; if the garbage collector then frees the handle, the next
 *   change to that list corrupts the heap. After a failed `open()`, `close()` and the destructor
 *   stop a uv_poll_t that was never initialized and crash outright. So every handle is kept
 *   reachable for the life of the process, and a failed one is never closed.
 * - A handle cannot be reopened after close() (its closing flag is never reset): use a new one.
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

export type PacketListener = (nbytes: number, truncated: boolean) => void;

export interface CapHandle {
  /** Returns the link type as a name ('ETHERNET', ...) or 'Unknown linktype N'. */
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: PacketListener): this;
  removeListener(event: 'packet', listener: PacketListener): this;
}

export interface CapBinding {
  Cap: {
    new (): CapHandle;
    deviceList(): PcapDevice[];
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

// Every handle ever created, and the buffers of failed ones: see the note at the top of this
// file. A few hundred bytes each, so a capture should stay open rather than be reopened often.
const keepAlive: unknown[] = [];

/**
 * Opens a new handle, which lives as long as the process (see above). On failure libpcap's
 * error is rethrown and the handle must not be used again.
 */
export function openHandle(
  binding: CapBinding,
  iface: string,
  filter: string,
  bufferSize: number,
  buffer: Buffer,
): { handle: CapHandle; linkName: string } {
  const handle = new binding.Cap();
  keepAlive.push(handle);
  try {
    return { handle, linkName: handle.open(iface, filter, bufferSize, buffer) };
  } catch (e) {
    keepAlive.push(buffer);
    throw e;
  }
}

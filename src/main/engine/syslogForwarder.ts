/**
 * Incident events to a syslog receiver (rsyslog, syslog-ng, a SIEM's collector), as RFC 5424
 * messages over UDP (RFC 5426), TCP or TLS (octet-counted framing, RFC 6587 / RFC 5425), to
 * the address the `syslog.target` setting names.
 *
 * The queue is the incident log itself (incidentLog.ts): a cursor beside it remembers how far
 * the receiver has acknowledged (for TCP and TLS: the connection took every byte and closed
 * cleanly; UDP has no acknowledgement, a datagram sent counts). While the receiver is down the
 * lines wait in the file, bounded by its rotation, and are sent in order when it is back;
 * lines that rotated away unsent are counted as dropped. Nothing is kept in memory between
 * attempts, so a restart resumes where the last acknowledged line ended.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export interface SyslogTarget {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
}

/** `udp://host:port`, `tcp://host:port` or `tls://host:port` (IPv6 in brackets), or null. */
export function syslogTarget(text: string): SyslogTarget | null {
  const m = /^(udp|tcp|tls):\/\/(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[4]);
  if (port < 1 || port > 65535) return null;
  return { transport: m[1] as SyslogTarget['transport'], host: m[2] ?? m[3]!, port };
}

/** local0: the facility syslog keeps for local applications. */
const FACILITY = 16;
const SEVERITY: Record<string, number> = { 'incident-opened': 4, 'incident-extended': 4, 'incident-resolved': 5, 'incident-marked': 5 };

/** One incident log line as an RFC 5424 message: the JSON line is the MSG, its action the MSGID. */
export function rfc5424(line: string, pid: number = process.pid): string {
  const event = JSON.parse(line) as { '@timestamp'?: string; event?: { action?: string }; host?: { name?: string } };
  const action = event.event?.action ?? 'incident';
  const pri = FACILITY * 8 + (SEVERITY[action] ?? 5);
  const host = (event.host?.name ?? '-').replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-';
  return `<${pri}>1 ${event['@timestamp'] ?? '-'} ${host} portent ${pid} ${action} - ${line}`;
}

interface Cursor {
  /** The incident log file's inode when the cursor was written, and the offset sent up to. */
  inode: number;
  offset: number;
}

export interface ForwardResult {
  sent: number;
  dropped: number;
  /** Why the last attempt stopped early (the receiver down, refused...), or null. */
  error: string | null;
}

/**
 * The queue shared by the forwarders (syslog here, OTLP in otlpForwarder.ts): the incident log,
 * read from a cursor kept beside it (`<log>.<name>-cursor`), sent by `send`, which resolves once
 * the receiver took the lines and rejects when it did not.
 */
export abstract class LogForwarder {
  private readonly cursorFile: string;
  sentTotal = 0;
  droppedTotal = 0;

  constructor(
    protected readonly logFile: string,
    name: string,
  ) {
    this.cursorFile = `${logFile}.${name}-cursor`;
  }

  /** Delivers these incident log lines, in order; rejects when the receiver did not take them all. */
  protected abstract send(lines: string[]): Promise<void>;

  /** Lets go of connections kept for the receiver, when the monitor stops. */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Sends what the receiver has not acknowledged yet, oldest first, and moves the cursor past
   * what it took. A first run starts at the end of the log: history is not replayed.
   */
  async flush(): Promise<ForwardResult> {
    const result: ForwardResult = { sent: 0, dropped: 0, error: null };
    let cursor = this.readCursor();
    const current = statOrNull(this.logFile);
    if (cursor === null) {
      this.writeCursor({ inode: current?.ino ?? 0, offset: current?.size ?? 0 });
      return result;
    }
    // The log rotated since: first the rest of the file the cursor is in, if it is still kept.
    if (current && cursor.inode !== current.ino) {
      const older = findRotated(this.logFile, cursor.inode);
      if (older) {
        const done = await this.sendFrom(older, cursor.offset, result);
        if (!done) return result;
      } else {
        result.dropped += 1;
        this.droppedTotal += 1;
      }
      cursor = { inode: current.ino, offset: 0 };
      this.writeCursor(cursor);
    }
    if (current) await this.sendFrom(this.logFile, cursor.offset, result, current.ino);
    return result;
  }

  /** Sends the complete lines of `file` from `offset`; true when all went. */
  private async sendFrom(file: string, offset: number, result: ForwardResult, inode?: number): Promise<boolean> {
    const { lines, end } = completeLinesFrom(file, offset);
    if (lines.length === 0) return true;
    try {
      await this.send(lines);
    } catch (err) {
      result.error = err instanceof Error ? err.message : String(err);
      return false;
    }
    result.sent += lines.length;
    this.sentTotal += lines.length;
    if (inode !== undefined) this.writeCursor({ inode, offset: end });
    return true;
  }

  private readCursor(): Cursor | null {
    try {
      const c = JSON.parse(fs.readFileSync(this.cursorFile, 'utf8')) as Cursor;
      return Number.isInteger(c.inode) && Number.isInteger(c.offset) ? c : null;
    } catch {
      return null;
    }
  }

  private writeCursor(c: Cursor): void {
    const temp = `${this.cursorFile}.${process.pid}`;
    fs.writeFileSync(temp, JSON.stringify(c), { mode: 0o600 });
    fs.renameSync(temp, this.cursorFile);
  }
}

export class SyslogForwarder extends LogForwarder {
  constructor(
    logFile: string,
    private readonly target: SyslogTarget,
    private readonly options: { caFile?: string; timeoutMs?: number } = {},
  ) {
    super(logFile, 'syslog');
  }

  protected send(lines: string[]): Promise<void> {
    const messages = lines.map((l) => rfc5424(l));
    const { transport, host, port } = this.target;
    const timeout = this.options.timeoutMs ?? 10_000;
    if (transport === 'udp') {
      const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      return (async () => {
        try {
          for (const m of messages) await new Promise<void>((resolve, reject) => socket.send(m, port, host, (err) => (err ? reject(err) : resolve())));
        } finally {
          socket.close();
        }
      })();
    }
    return new Promise<void>((resolve, reject) => {
      const framed = messages.map((m) => `${Buffer.byteLength(m)} ${m}`).join('');
      const socket =
        transport === 'tls'
          ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...(this.options.caFile ? { ca: fs.readFileSync(this.options.caFile) } : {}) })
          : net.connect({ host, port });
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.setTimeout(timeout, () => fail(new Error(`syslog receiver ${host}:${port} did not answer within ${timeout} ms`)));
      socket.once('error', fail);
      socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => {
        socket.end(framed);
      });
      // Acknowledged: every byte written and the connection closed without an error.
      socket.once('close', (hadError) => (hadError ? undefined : resolve()));
    });
  }
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

/** The rotated copy (`file.1`, `file.2`, ...) that is the file with `inode`, if still kept. */
function findRotated(file: string, inode: number): string | null {
  for (let i = 1; i <= 9; i++) {
    if (statOrNull(`${file}.${i}`)?.ino === inode) return `${file}.${i}`;
  }
  return null;
}

/** The complete lines of `file` from byte `offset`, and the offset after the last one. */
function completeLinesFrom(file: string, offset: number): { lines: string[]; end: number } {
  const size = statOrNull(file)?.size ?? 0;
  if (size <= offset) return { lines: [], end: offset };
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size - offset);
    fs.readSync(fd, buffer, 0, buffer.length, offset);
    const last = buffer.lastIndexOf(0x0a);
    if (last < 0) return { lines: [], end: offset };
    const lines = buffer.subarray(0, last).toString('utf8').split('\n').filter((l) => l.length > 0);
    return { lines, end: offset + last + 1 };
  } finally {
    fs.closeSync(fd);
  }
}

import fs from 'node:fs';
import path from 'node:path';

export interface RotatingFileOptions {
  /** Bytes a log file may reach before it is rotated. */
  maxBytes?: number;
  /** Rotated files kept besides the current one (`portent.log.1` … `.N`). */
  keep?: number;
}

/**
 * A log sink appending lines to a file that rotates by size, so a monitor left running for months
 * keeps a bounded amount of log. Writes are synchronous and small: a log line must be on disk
 * before a crash that follows it, and the monitor logs a few lines a minute.
 */
export class RotatingFile {
  private fd: number;
  private size: number;
  private readonly maxBytes: number;
  private readonly keep: number;
  /** Lines lost while the file could not be written (a full disk), and why. */
  private dropped: { lines: number; error: string } | null = null;

  constructor(readonly file: string, options: RotatingFileOptions = {}) {
    this.maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
    this.keep = options.keep ?? 3;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(file, 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  /**
   * Appends a line. A line that cannot be written (the disk is full) is dropped rather than
   * thrown at whoever is logging; the first line written after says how many were lost.
   */
  write(line: string): void {
    const lost = this.dropped;
    // The notice and the line go in one write: both or neither.
    const notice = lost ? JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: 'log lines lost: the log file could not be written', lines: lost.lines, error: lost.error }) + '\n' : '';
    const error = this.append(notice + (line.endsWith('\n') ? line : line + '\n'));
    this.dropped = error === null ? null : { lines: (lost?.lines ?? 0) + 1, error: lost?.error ?? error };
  }

  /** Writes `data`; the error's message when the disk has no room for it, null once written. */
  private append(data: string): string | null {
    const bytes = Buffer.byteLength(data);
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    let error: string | null = null;
    try {
      // A disk with room for part of the line writes that part and says nothing.
      if (fs.writeSync(this.fd, data) < bytes) error = 'no space left on device (the line was cut short)';
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ENOSPC' && e.code !== 'EDQUOT') throw err;
      error = e.message;
    }
    if (error !== null) {
      // The part that fit goes again: the file keeps whole lines only.
      fs.ftruncateSync(this.fd, this.size);
      return error;
    }
    this.size += bytes;
    return null;
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    for (let i = this.keep; i >= 1; i--) {
      const from = i === 1 ? this.file : `${this.file}.${i - 1}`;
      try {
        fs.renameSync(from, `${this.file}.${i}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.fd = fs.openSync(this.file, 'a', 0o600);
    this.size = 0;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

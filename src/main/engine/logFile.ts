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

  constructor(readonly file: string, options: RotatingFileOptions = {}) {
    this.maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
    this.keep = options.keep ?? 3;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(file, 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  write(line: string): void {
    const data = line.endsWith('\n') ? line : line + '\n';
    const bytes = Buffer.byteLength(data);
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    fs.writeSync(this.fd, data);
    this.size += bytes;
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

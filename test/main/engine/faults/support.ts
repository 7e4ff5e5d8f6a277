import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

/** Why a small tmpfs cannot be mounted here (not root, no mount(8), a sandbox that forbids it), or null. */
export function tmpfsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'mounts a tmpfs, which is Linux-only';
  if (process.getuid?.() !== 0) return 'must run as root to mount a small tmpfs';
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-mount-probe-'));
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { encoding: 'utf8' });
    if (r.error) return `mount(8) cannot run: ${r.error.message}`;
    if (r.status !== 0) return `mounting a tmpfs is not permitted here: ${r.stderr.trim()}`;
    spawnSync('umount', [probe]);
    return null;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

/** A tmpfs of `bytes` mounted on a fresh folder; `unmount` (safe to call twice) removes both. */
export function mountTmpfs(bytes: number): { dir: string; unmount: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-full-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`);
  let mounted = true;
  return {
    dir,
    unmount: () => {
      if (!mounted) return;
      // Lazy: a process the test started may still hold a file open while it exits.
      spawnSync('umount', ['-l', dir]);
      mounted = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the file system holding `dir` with one file until no block is left; returns its path. */
export function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024, 0x5a);
  try {
    // Bounded: a tmpfs of a few MB fills in a few hundred chunks.
    for (let i = 0; i < 100_000; i++) {
      try {
        fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // The last few blocks, one small write at a time.
        for (let j = 0; j < 10_000; j++) {
          try {
            fs.writeSync(fd, chunk.subarray(0, 512));
          } catch {
            return file;
          }
        }
        return file;
      }
    }
    throw new Error('the disk did not fill');
  } finally {
    fs.closeSync(fd);
  }
}

/** Ids of the rounds stored in `file`, read through a connection of the test's own. */
export function storedRoundIds(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT id FROM rounds ORDER BY id').pluck().all() as number[];
  } finally {
    db.close();
  }
}

/** The same, or none while the monitor has not created the file (or its schema) yet. */
export function roundsSoFar(file: string): number[] {
  try {
    return storedRoundIds(file);
  } catch {
    return [];
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A monitor's schedule ticks at second 0 of each real minute (one-minute rounds) and would take
 * a round of its own between the test's: returns well after a tick, with at least 25 s before
 * the next (waits at most 26 s).
 */
export async function clearOfTheNextTick(): Promise<void> {
  for (let i = 0; i < 30 && new Date().getSeconds() > 35; i++) await sleep(1000);
  await sleep(1100 - new Date().getMilliseconds());
}

/** Polls `check` every `everyMs` until it is true, at most `tries` times; false if it never was. */
export async function eventually(check: () => boolean, tries = 200, everyMs = 100): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (check()) return true;
    await sleep(everyMs);
  }
  return check();
}

/** Lines of a JSON log whose message is `msg`. */
export function linesWith(lines: readonly string[], msg: string | RegExp): string[] {
  return lines.filter((l) => {
    try {
      const m = (JSON.parse(l) as { msg?: unknown }).msg;
      return typeof m === 'string' && (typeof msg === 'string' ? m === msg : msg.test(m));
    } catch {
      return false;
    }
  });
}

import fs from 'node:fs';
import path from 'node:path';
import { DatabaseOpenError, openDatabase, type Db, type OpenOptions } from '../engine/store/database';
import { defaultDatabasePath } from '../engine/paths';
import type { CommandContext } from './command';
import { UsageError } from './command';
import { portentLine } from '../engine/invocation';

/** The database a command works on: `--db PATH`, or the default file in the per-user data folder. */
export function resolveDbPath(ctx: CommandContext): string {
  const value = ctx.values.db;
  if (value === undefined) return defaultDatabasePath(ctx.env);
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError('--db needs a file path');
  return path.resolve(value);
}

/**
 * Opens the database of a command that only reports (status, export): one that does not exist
 * yet is not created, and the message says how to make one.
 */
export function openExistingDatabase(dbPath: string, options: OpenOptions = {}): Db {
  if (!fs.existsSync(dbPath)) {
    throw new DatabaseOpenError('missing', `there is no Portent database at ${dbPath} yet: start the monitor with \`${portentLine('run')}\` (or pass --db PATH)`);
  }
  return openDatabase(dbPath, options);
}

/**
 * Opens the database of a command that only reads it (status, ports, export, connections),
 * without writing to it, so that it works on a database in a folder or on media this user may
 * only read. One written by an older Portent is upgraded first, as any start would (that needs
 * write access, and says so when it has none).
 */
export function openForReading(dbPath: string): Db {
  try {
    return openExistingDatabase(dbPath, { readonly: true });
  } catch (err) {
    if (err instanceof DatabaseOpenError && err.code === 'migration-failed' && /needs an upgrade/.test(err.message)) return openExistingDatabase(dbPath);
    if (err instanceof DatabaseOpenError && err.code === 'unreadable' && /readonly database|unable to open/.test(err.message) && !canWrite(path.dirname(dbPath))) {
      throw new DatabaseOpenError(
        'unreadable',
        `${dbPath} cannot be read from a folder this user may not write: it was left in write-ahead-log mode without its ${path.basename(dbPath)}-shm file (by a Portent older than this one). ` +
          `Start the monitor on it once where it can write (\`${portentLine('run')}\`, then stop it), or copy it to a folder you may write.`,
      );
    }
    throw err;
  }
}

function canWrite(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

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

import path from 'node:path';
import { defaultDatabasePath } from '../engine/paths';
import type { CommandContext } from './command';
import { UsageError } from './command';

/** The database a command works on: `--db PATH`, or the default file in the per-user data folder. */
export function resolveDbPath(ctx: CommandContext): string {
  const value = ctx.values.db;
  if (value === undefined) return defaultDatabasePath(ctx.env);
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError('--db needs a file path');
  return path.resolve(value);
}

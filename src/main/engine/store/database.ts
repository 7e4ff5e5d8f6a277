import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { defaultMigrationsDir, loadMigrations, type Migration } from './migrations';

export type Db = Database.Database;

/** Raised when a database cannot be opened safely; `code` lets shells word the message. */
export class DatabaseOpenError extends Error {
  constructor(
    readonly code: 'not-a-database' | 'newer-version' | 'unreadable' | 'migration-failed' | 'missing',
    message: string,
  ) {
    super(message);
    this.name = 'DatabaseOpenError';
  }
}

export interface OpenOptions {
  migrationsDir?: string;
  /** Milliseconds a writer waits for a lock held by another connection before failing. */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Checks the first bytes of an existing file before SQLite touches it: switching to WAL rewrites
 * the header, so a file that is not a database must be recognised without opening it for writing.
 */
function assertSqliteFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return;
    throw new DatabaseOpenError('unreadable', `Portent cannot read its database ${file}: ${e.message}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return; // an empty file is a new database to SQLite
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const read = fs.readSync(fd, head, 0, head.length, 0);
    if (read < head.length || !head.equals(SQLITE_HEADER)) {
      throw new DatabaseOpenError(
        'not-a-database',
        `${file} is not a SQLite database (it is ${size} bytes of something else). ` +
          'Portent left it untouched; move it away or choose another file with --db.',
      );
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Port history per process is private: a folder Portent creates is its user's alone (0700), and
 * so is the database (0600; SQLite gives its -wal and -shm files the database's mode). An
 * existing database of this user's that others may read is made private; a folder Portent did
 * not create (say, --db /tmp/x.db) is left as it is.
 */
function keepPrivate(file: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new DatabaseOpenError('unreadable', `Portent cannot create the folder of its database ${file}: ${(err as Error).message}. Choose a place this user may write with --db PATH or PORTENT_HOME.`);
  }
  try {
    // Created empty with its mode first; SQLite then opens an existing file and keeps the mode.
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return;
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      try {
        const st = fs.statSync(f);
        if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) fs.chmodSync(f, st.mode & 0o700);
      } catch {
        // Not there (no -wal yet), or not ours to change.
      }
    }
  }
}

function readUserVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Opens (creating if needed) a Portent database and brings its schema up to date. A database
 * written by a newer Portent is refused before anything is written to it.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const migrations = loadMigrations(options.migrationsDir ?? defaultMigrationsDir());
  const latest = migrations[migrations.length - 1]?.version ?? 0;

  assertSqliteFile(file);
  if (!options.readonly) keepPrivate(file);

  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (err) {
    throw new DatabaseOpenError('unreadable', `Portent cannot open its database ${file}: ${(err as Error).message}`);
  }

  try {
    const current = readUserVersion(db);
    if (current > latest) {
      throw new DatabaseOpenError(
        'newer-version',
        `${file} was written by a newer Portent (schema version ${current}; this version knows up to ${latest}). ` +
          'It was left untouched: update Portent to open it.',
      );
    }
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    if (options.readonly) {
      if (current < latest) {
        throw new DatabaseOpenError('migration-failed', `${file} needs an upgrade (version ${current} → ${latest}) and was opened read-only`);
      }
      return db;
    }
    if (current === 0) {
      // Only takes effect before the first table exists; lets the daily cleanup hand pages back.
      db.pragma('auto_vacuum = INCREMENTAL');
    }
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL loses no committed data on a process crash, only possibly on power loss.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    applyMigrations(db, migrations, current, file);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof DatabaseOpenError) throw err;
    const e = err as Error & { code?: string };
    if (e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CORRUPT') {
      throw new DatabaseOpenError('not-a-database', `${file} is damaged or not a SQLite database (${e.message}); Portent left it untouched.`);
    }
    throw new DatabaseOpenError('unreadable', `Portent cannot open its database ${file}: ${e.message}`);
  }
}

function applyMigrations(db: Db, migrations: Migration[], current: number, file: string): void {
  for (const m of migrations) {
    if (m.version <= current) continue;
    const apply = db.transaction(() => {
      db.exec(m.sql);
      const violations = db.pragma('foreign_key_check') as unknown[];
      if (violations.length > 0) throw new Error(`it would leave ${violations.length} foreign key violations`);
      // user_version lives in the database header and changes inside this transaction.
      db.pragma(`user_version = ${m.version}`);
    });
    try {
      apply();
    } catch (err) {
      throw new DatabaseOpenError(
        'migration-failed',
        `Migration ${path.basename(m.file)} failed on ${file}: ${(err as Error).message}. The database stays at version ${readUserVersion(db)}.`,
      );
    }
  }
}

/**
 * Closes a database the monitor wrote to, at rest in rollback-journal mode when it can be: a
 * WAL-mode file without its -shm beside it cannot be read at all from a folder the reader may
 * not write (SQLite must create the -shm first), so a database copied to read-only media, or
 * whose folder lost its write bit, would be unreadable by `status` and the other reading
 * commands. The next start puts it back in WAL mode. When another connection still has it open,
 * it stays as it is (that one will leave the -wal and -shm behind it anyway).
 */
export function closeDatabase(db: Db): void {
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = DELETE');
  } catch {
    // Busy (another connection) or read-only: leave it in WAL mode.
  }
  db.close();
}

/** The schema version this build of Portent writes. */
export function latestSchemaVersion(migrationsDir?: string): number {
  const migrations = loadMigrations(migrationsDir ?? defaultMigrationsDir());
  return migrations[migrations.length - 1]?.version ?? 0;
}

/** The database file and its write-ahead log as they sit on disk (no WAL between checkpoints is normal). */
export function databaseFileBytes(dbPath: string): number {
  let total = 0;
  for (const file of [dbPath, `${dbPath}-wal`]) {
    try {
      total += fs.statSync(file).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return total;
}

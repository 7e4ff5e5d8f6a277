import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DatabaseOpenError, latestSchemaVersion, openDatabase } from '../../../../src/main/engine/store/database';
import { defaultMigrationsDir, loadMigrations } from '../../../../src/main/engine/store/migrations';
import { migrationsUpTo } from '../../../support/db';
import { tempDir } from '../../../support/tmp';
import { repoRoot } from '../../../support/cli';

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function expectOpenError(fn: () => unknown, code: DatabaseOpenError['code'], text: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DatabaseOpenError);
  expect((caught as DatabaseOpenError).code).toBe(code);
  expect((caught as Error).message).toMatch(text);
}

describe('openDatabase', () => {
  it('creates a new database in WAL mode with foreign keys, a busy timeout and the latest schema', () => {
    const file = path.join(tempDir(), 'nested', 'folder', 'portent.db');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2); // incremental
    expect(db.pragma('user_version', { simple: true })).toBe(latestSchemaVersion());
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['packets', 'ports', 'rounds', 'rounds_ports']));
    db.close();
  });

  it('reopens an up-to-date database without changing its data', () => {
    const file = path.join(tempDir(), 'portent.db');
    const db = openDatabase(file);
    db.prepare("INSERT INTO rounds (started_at, host, status) VALUES (1, 'h', 'ok')").run();
    db.close();
    const again = openDatabase(file);
    expect(again.prepare('SELECT count(*) FROM rounds').pluck().get()).toBe(1);
    again.close();
  });

  it('refuses a database written by a newer Portent and leaves the file byte for byte as it was', () => {
    const file = path.join(tempDir(), 'future.db');
    const raw = new Database(file);
    raw.exec('CREATE TABLE something_new (x)');
    raw.pragma('user_version = 999');
    raw.close();
    const before = sha(file);
    expectOpenError(() => openDatabase(file), 'newer-version', /newer Portent \(schema version 999; this version knows up to \d+\)/);
    expect(sha(file)).toBe(before);
    expect(fs.existsSync(file + '-wal')).toBe(false);
  });

  it('reports a file that is not a SQLite database and does not overwrite it', () => {
    const file = path.join(tempDir(), 'notes.db');
    fs.writeFileSync(file, 'these are my notes, not a database\n'.repeat(100));
    const before = sha(file);
    expectOpenError(() => openDatabase(file), 'not-a-database', /is not a SQLite database/);
    expect(sha(file)).toBe(before);
  });

  it('reports a truncated database file instead of crashing or overwriting it', () => {
    const good = path.join(tempDir(), 'good.db');
    openDatabase(good).close();
    const bytes = fs.readFileSync(good);
    const broken = path.join(path.dirname(good), 'broken.db');
    // Keep the header but zero out the rest of the first page: SQLite sees a damaged schema.
    const damaged = Buffer.concat([bytes.subarray(0, 100), Buffer.alloc(bytes.length - 100, 0xff)]);
    fs.writeFileSync(broken, damaged);
    const before = sha(broken);
    expect(() => openDatabase(broken)).toThrow(DatabaseOpenError);
    expect(sha(broken)).toBe(before);
  });

  it('treats an empty file as a new database', () => {
    const file = path.join(tempDir(), 'empty.db');
    fs.writeFileSync(file, '');
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(latestSchemaVersion());
    db.close();
  });

  it('rolls back a failing migration, keeps the earlier version and the data', () => {
    const dir = migrationsUpTo(1);
    const file = path.join(tempDir(), 'portent.db');
    const db = openDatabase(file, { migrationsDir: dir });
    db.prepare("INSERT INTO rounds (started_at, host, status) VALUES (1, 'h', 'ok')").run();
    db.close();
    fs.writeFileSync(path.join(dir, '002_broken.sql'), 'CREATE TABLE half_done (x);\nTHIS IS NOT SQL;\n');
    expectOpenError(() => openDatabase(file, { migrationsDir: dir }), 'migration-failed', /002_broken\.sql failed.*stays at version 1/);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(1);
    expect(check.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").pluck().get()).toBe(0);
    expect(check.prepare('SELECT count(*) FROM rounds').pluck().get()).toBe(1);
    check.close();
  });

  it('applies only the migrations a database has not seen yet', () => {
    const dir = migrationsUpTo(1);
    const file = path.join(tempDir(), 'portent.db');
    openDatabase(file, { migrationsDir: dir }).close();
    fs.writeFileSync(path.join(dir, '002_extra.sql'), 'CREATE TABLE extra (id INTEGER PRIMARY KEY);');
    const db = openDatabase(file, { migrationsDir: dir });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").pluck().get()).toBe(1);
    db.close();
  });
});

describe('loadMigrations', () => {
  it('reads the real migrations numbered from 1 without gaps', () => {
    const migrations = loadMigrations(defaultMigrationsDir());
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
  });

  it('rejects a gap in the numbering', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '001_a.sql'), 'SELECT 1;');
    fs.writeFileSync(path.join(dir, '003_c.sql'), 'SELECT 1;');
    expect(() => loadMigrations(dir)).toThrow(/expected 2, found 003_c\.sql/);
  });

  it('rejects a badly named file', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'initial.sql'), 'SELECT 1;');
    expect(() => loadMigrations(dir)).toThrow(/does not match NNN_name\.sql/);
  });
});

describe('openDatabase keeps port history private', () => {
  it('creates its folder 0700 and the database, its WAL and shared memory 0600', () => {
    const root = tempDir();
    const file = path.join(root, 'data', 'portent.db');
    const db = openDatabase(file);
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    const mode = (f: string) => fs.statSync(f).mode & 0o777;
    expect(mode(path.dirname(file))).toBe(0o700);
    expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    db.close();
  });

  it("makes an existing database of this user's private, and leaves a folder it did not create alone", () => {
    const root = tempDir();
    fs.chmodSync(root, 0o755);
    const file = path.join(root, 'portent.db');
    openDatabase(file).close();
    fs.chmodSync(file, 0o644);
    openDatabase(file).close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(root).mode & 0o777).toBe(0o755);
  });
});

describe('openDatabase where it may not write', () => {
  it('says which folder it cannot create and how to choose another (run as an unprivileged user)', () => {
    const root = tempDir();
    fs.chmodSync(root, 0o755);
    const locked = path.join(root, 'locked');
    fs.mkdirSync(locked, { mode: 0o555 });
    const module = path.join(repoRoot, 'src', 'main', 'engine', 'store', 'database.ts');
    const script = `import(${JSON.stringify(module)}).then((m) => { try { m.openDatabase(${JSON.stringify(path.join(locked, 'sub', 'portent.db'))}); console.log('opened'); } catch (e) { console.log(e.name + ': ' + e.message); } })`;
    // As root, the check runs as nobody: root may write anywhere.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: os.tmpdir() }, ...asUser });
    expect(r.stdout.trim()).toMatch(/^DatabaseOpenError: Portent cannot create the folder of its database .*EACCES.*--db PATH or PORTENT_HOME\.$/);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { defaultMigrationsDir, loadMigrations } from '../../src/main/engine/store/migrations';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { RoundStore } from '../../src/main/engine/store/rounds';
import { tempDir } from './tmp';

/** A migrations folder holding only the first `version` of the real migrations. */
export function migrationsUpTo(version: number): string {
  const dir = tempDir('portent-migrations-');
  for (const m of loadMigrations(defaultMigrationsDir()).filter((m) => m.version <= version)) {
    fs.copyFileSync(m.file, path.join(dir, path.basename(m.file)));
  }
  return dir;
}

/** A real database file in a temp folder, migrated to `version` (default: the latest). */
export function openTestDb(version?: number): { db: Db; file: string } {
  const file = path.join(tempDir(), 'portent.db');
  const db = openDatabase(file, version === undefined ? {} : { migrationsDir: migrationsUpTo(version) });
  return { db, file };
}

/** A real database at the latest schema with a RoundStore on it; close `db` after the test. */
export function openTestStore(): { db: Db; store: RoundStore; file: string } {
  const { db, file } = openTestDb();
  return { db, store: new RoundStore(db), file };
}

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Migration {
  /** The number in the file name: applied in ascending order, recorded in `PRAGMA user_version`. */
  version: number;
  name: string;
  file: string;
  sql: string;
}

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/**
 * Reads the numbered SQL files of a migrations folder. The numbers must run 1, 2, 3... with no
 * gap or duplicate: a hole would mean a database could claim a version it never reached.
 */
export function loadMigrations(dir: string): Migration[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    throw new Error(`Portent cannot read its migrations folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const migrations: Migration[] = [];
  for (const name of names) {
    if (!name.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(name);
    if (!match) throw new Error(`Migration file name ${name} does not match NNN_name.sql`);
    const file = path.join(dir, name);
    migrations.push({ version: Number(match[1]), name: match[2] ?? name, file, sql: fs.readFileSync(file, 'utf8') });
  }
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`Migrations must be numbered 1, 2, 3... without gaps; expected ${i + 1}, found ${path.basename(m.file)}`);
    }
  });
  if (migrations.length === 0) throw new Error(`No migrations found in ${dir}`);
  return migrations;
}

/**
 * Finds the repository's `migrations/` folder by walking up from this module. Packaged builds
 * ship the folder as a resource and pass its path explicitly instead.
 */
export function defaultMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'migrations');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Cannot find the migrations folder; pass its path explicitly');
    dir = parent;
  }
}

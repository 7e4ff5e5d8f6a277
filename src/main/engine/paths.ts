import os from 'node:os';
import path from 'node:path';

/**
 * The per-user folder Portent keeps its database, model and logs in. `PORTENT_HOME` overrides
 * it (tests, and several monitors on one machine).
 */
export function dataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  if (env.PORTENT_HOME) return path.resolve(env.PORTENT_HOME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Portent');
  const xdg = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return path.join(xdg, 'portent');
}

export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  return path.join(dataDir(env, platform, home), 'portent.db');
}

/** The detector's model folder, kept beside the database it was trained on. */
export function modelDirFor(dbPath: string): string {
  return path.join(path.dirname(dbPath), 'model');
}

import fs from 'node:fs';

/**
 * The address `portent serve` prints, kept beside the database while it serves so that
 * `portent status` can show it to the same user. The address carries the access token, so the
 * file is private to the user (0600) and gone when serving stops.
 */
export const webAddressFileOf = (dbPath: string): string => `${dbPath}.url`;

export function writeWebAddress(dbPath: string, url: string): void {
  const file = webAddressFileOf(dbPath);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, url + '\n', { mode: 0o600, flag: 'wx' });
}

export function removeWebAddress(dbPath: string): void {
  fs.rmSync(webAddressFileOf(dbPath), { force: true });
}

/** The address, while a monitor serves it; null when there is none or it cannot be read. */
export function readWebAddress(dbPath: string): string | null {
  try {
    const url = fs.readFileSync(webAddressFileOf(dbPath), 'utf8').trim();
    return /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+$/.test(url) ? url : null;
  } catch {
    return null;
  }
}

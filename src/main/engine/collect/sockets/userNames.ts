import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

export interface UserNamesOptions {
  /** The getent program; by default the system's, found at an absolute path. */
  getent?: string;
  /** A change of this file (a user added or renamed) makes every name be asked again. */
  passwdPath?: string;
  now?: () => number;
}

/**
 * Absolute paths, as for lsof: a monitor must not run whatever `getent` comes first on a PATH.
 * The last one is NixOS's.
 */
const GETENT_PATHS = ['/usr/bin/getent', '/bin/getent', '/run/current-system/sw/bin/getent'];

/**
 * A uid that had no name is asked about again after this long: NSS-only users appear without
 * any file changing (a systemd DynamicUser= service starting, an LDAP server coming back).
 */
const RETRY_UNKNOWN_MS = 5 * 60_000;

/** getent may wait on a network directory; a scan must not wait with it for long. */
const GETENT_TIMEOUT_MS = 2_000;

/**
 * uid -> login name through the C library's user database (NSS), the way `ps` and `ss -p` name
 * owners: /etc/passwd and also LDAP, sssd, systemd-homed and DynamicUser= users, which a reader
 * of /etc/passwd alone never sees. getent is the C library's own front end to getpwuid(), and
 * the only way to it without a native addon. Names are remembered: a scan asks, in a single
 * getent run, only about the uids it has not met before, so owners cost no process of their own.
 */
export class UserNames {
  private readonly getent: string | null;
  private readonly passwdPath: string;
  private readonly now: () => number;
  private readonly known = new Map<number, { name: string | null; at: number }>();
  private passwdVersion = '';

  constructor(options: UserNamesOptions = {}) {
    this.getent = options.getent ?? GETENT_PATHS.find((p) => existsSync(p)) ?? null;
    this.passwdPath = options.passwdPath ?? '/etc/passwd';
    this.now = options.now ?? Date.now;
  }

  /** Looks up, in one getent run, the uids not met before and those unknown for a while. */
  async resolve(uids: Iterable<number>): Promise<void> {
    const version = fileVersion(this.passwdPath);
    if (version !== this.passwdVersion) {
      this.passwdVersion = version;
      this.known.clear();
    }
    const now = this.now();
    const ask = [...new Set(uids)].filter((uid) => {
      const entry = this.known.get(uid);
      return !entry || (entry.name === null && now - entry.at >= RETRY_UNKNOWN_MS);
    }).sort((a, b) => a - b);
    if (ask.length === 0) return;
    const found = parsePasswd(this.getent === null ? '' : await runGetent(this.getent, ask));
    for (const uid of ask) this.known.set(uid, { name: found.get(uid) ?? null, at: now });
  }

  /** The name of a uid passed to `resolve` before; null when it has none: nothing is made up. */
  name(uid: number): string | null {
    return this.known.get(uid)?.name ?? null;
  }
}

function fileVersion(file: string): string {
  try {
    const st = statSync(file);
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    return 'missing';
  }
}

/**
 * getent's entries for the uids; exit status 2 only says that some were not found, and a
 * failure to run at all leaves every uid unknown until it is asked again.
 */
function runGetent(getent: string, uids: readonly number[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(getent, ['passwd', ...uids.map(String)], { timeout: GETENT_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout) => {
      resolve(err && err.code !== 2 ? '' : stdout);
    });
  });
}

/** uid -> name from passwd(5) lines; the first entry wins, as with getpwuid() when two names share a uid. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid) && !names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePasswd, UserNames } from '../../../../../src/main/engine/collect/sockets/userNames';

/** A uid that no account on a test machine has. */
const UNUSED_UID = 4_000_000_123;

let dir: string;
let passwd: string;
let log: string;

/** A getent that answers from `passwd` (or fails with `exitStatus`) and notes every run. */
function fakeGetent(exitStatus?: number): string {
  const file = path.join(dir, 'getent');
  const body =
    exitStatus === undefined
      ? `shift\nstatus=0\nfor uid in "$@"; do\n  awk -F: -v u="$uid" '$3 == u { print; found = 1; exit } END { exit !found }' '${passwd}' || status=2\ndone\nexit $status\n`
      : `exit ${exitStatus}\n`;
  writeFileSync(file, `#!/bin/sh\necho "$*" >> '${log}'\n${body}`);
  chmodSync(file, 0o755);
  return file;
}
const runs = () => readFileSync(log, 'utf8').trim().split('\n');

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'portent-users-'));
  passwd = path.join(dir, 'passwd');
  log = path.join(dir, 'getent.log');
  writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('UserNames', () => {
  it("names uids through this system's getent, and leaves a uid nobody has unnamed", async () => {
    const users = new UserNames();
    await users.resolve([0, UNUSED_UID]);
    expect(users.name(0)).toBe('root');
    expect(users.name(UNUSED_UID)).toBeNull();
    // This process's own user, whichever database knows it: the same answer as getpwuid().
    const me = os.userInfo();
    await users.resolve([me.uid]);
    expect(users.name(me.uid)).toBe(me.username);
  });

  it('asks once per uid, all new uids in one run, however many sockets share them', async () => {
    const users = new UserNames({ getent: fakeGetent(), passwdPath: passwd });
    await users.resolve([33, 0, 33, 33, 0]);
    await users.resolve([0, 33]);
    expect(runs()).toEqual(['passwd 0 33']);
    expect([users.name(0), users.name(33)]).toEqual(['root', 'www-data']);
  });

  it('asks again about an unknown uid only after a while, and about all uids when the passwd file changes', async () => {
    let now = 1_000_000;
    const users = new UserNames({ getent: fakeGetent(), passwdPath: passwd, now: () => now });
    await users.resolve([0, 61_184]);
    expect(users.name(61_184)).toBeNull();
    await users.resolve([0, 61_184]);
    expect(runs()).toHaveLength(1);
    // A DynamicUser= service starts: its user exists now, with no change visible before the retry.
    now += 5 * 60_000;
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\nfeed:x:61184:61184::/:/usr/sbin/nologin\n');
    await users.resolve([0, 61_184]);
    expect(users.name(61_184)).toBe('feed');
    expect(runs()).toEqual(['passwd 0 61184', 'passwd 0 61184']);
    writeFileSync(passwd, 'admin:x:0:0:root:/root:/bin/bash\n');
    await users.resolve([0]);
    expect(users.name(0)).toBe('admin');
  });

  it('leaves names unknown when getent fails or is missing, and tries again later', async () => {
    let now = 0;
    const failing = new UserNames({ getent: fakeGetent(1), passwdPath: passwd, now: () => now });
    await failing.resolve([0]);
    expect(failing.name(0)).toBeNull();
    now += 5 * 60_000;
    await failing.resolve([0]);
    expect(runs()).toHaveLength(2);
    const missing = new UserNames({ getent: path.join(dir, 'no-such-getent'), passwdPath: passwd });
    await missing.resolve([0]);
    expect(missing.name(0)).toBeNull();
  });

  it('never names a uid it was not asked about', () => {
    expect(new UserNames({ getent: fakeGetent() }).name(0)).toBeNull();
  });
});

describe('parsePasswd', () => {
  it('keeps the first name of a uid, as getpwuid() does, and skips lines that are not entries', () => {
    const names = parsePasswd('root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n\n+::::::\nbad:x:abc:0::/:/bin/sh\nwww-data:x:33:33::/var/www:/bin/false\n');
    expect([...names]).toEqual([
      [0, 'root'],
      [33, 'www-data'],
    ]);
  });
});

import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli';
import { negativeNumbersAsValues } from '../../../src/main/headless/cli';
import { tempDir } from '../../support/tmp';

describe('portent config', () => {
  it('lists every setting, sets one, rejects a bad value keeping the old one, and resets', () => {
    const db = path.join(tempDir(), 'portent.db');
    const list = runCli(['config', 'get', '--db', db]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^SETTING\s+VALUE\s+DEFAULT\s+WHAT IT DOES/);
    expect(list.stdout).toMatch(/retention\.packetsDays\s+7\s+7\s+Days of packet header rows kept/);

    expect(runCli(['config', 'set', 'retention.packetsDays', '14', '--db', db])).toMatchObject({ status: 0, stdout: 'retention.packetsDays = 14\n' });
    const bad = runCli(['config', 'set', 'retention.packetsDays', '0', '--db', db]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('portent config: retention.packetsDays must be a whole number of days from 1 to 3650; got 0. The previous value stays: 14\n');
    expect(runCli(['config', 'get', 'retention.packetsDays', '--db', db]).stdout).toBe('14\n');
    expect(runCli(['config', 'get', '--json', '--db', db]).stdout).toContain('"retention.packetsDays": 14');
    expect(runCli(['config', 'get', '--db', db]).stdout).toMatch(/retention\.packetsDays\s+14 \*\s+7/);

    expect(runCli(['config', 'set', 'capture.filter', 'udp port 53', '--db', db]).stdout).toBe('capture.filter = "udp port 53"\n');
    expect(runCli(['config', 'reset', 'retention.packetsDays', '--db', db]).stdout).toBe('retention.packetsDays = 7 (default)\n');
    expect(runCli(['config', 'get', 'retention.packetsDays', '--db', db]).stdout).toBe('7\n');
  });

  it('explains usage mistakes with exit code 2', () => {
    const db = path.join(tempDir(), 'portent.db');
    expect(runCli(['config', 'get', 'no.such', '--db', db])).toMatchObject({ status: 2, stderr: expect.stringContaining("unknown setting 'no.such'. Settings: capture.enabled") });
    expect(runCli(['config', 'set', 'capture.enabled', '--db', db])).toMatchObject({ status: 2, stderr: expect.stringContaining('needs a value') });
    expect(runCli(['config', 'frobnicate', '--db', db])).toMatchObject({ status: 2, stderr: expect.stringContaining("expected get, set or reset; got 'frobnicate'") });
  });
});

describe('config and this machine', () => {
  it('refuses an interface the machine does not have, listing the real ones, and keeps the old value', () => {
    const db = path.join(tempDir(), 'portent.db');
    const listed = runCli(['interfaces', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    const names = (JSON.parse(listed.stdout) as { interfaces: { name: string }[] }).interfaces.map((i) => i.name);
    expect(names).toContain('lo');

    expect(runCli(['config', 'set', 'capture.interface', 'lo', '--db', db])).toMatchObject({ status: 0, stdout: 'capture.interface = "lo"\n' });
    const bad = runCli(['config', 'set', 'capture.interface', 'eth9', '--db', db]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe(`portent config: capture.interface must be one of this machine's interfaces (${names.join(', ')}), or "" for the default route's; got "eth9". The previous value stays: "lo"\n`);
    expect(runCli(['config', 'get', 'capture.interface', '--db', db]).stdout).toBe('"lo"\n');
    // The empty value (the default route's interface) is always allowed.
    expect(runCli(['config', 'set', 'capture.interface', '', '--db', db])).toMatchObject({ status: 0, stdout: 'capture.interface = ""\n' });
  });

  it('shows a garbage stored value as such, with the default used in its place and why, without failing', () => {
    const db = path.join(tempDir(), 'portent.db');
    expect(runCli(['config', 'get', '--db', db]).status).toBe(0);
    const raw = new Database(db);
    raw.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('retention.flowsDays', '\"lots\"', 1), ('schedule.cleanupAt', '{oops', 1)").run();
    raw.close();

    const list = runCli(['config', 'get', '--db', db]);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/retention\.flowsDays\s+30 !\s+30/);
    expect(list.stdout).toMatch(/schedule\.cleanupAt\s+"03:30" !\s+"03:30"/);
    expect(list.stdout).toContain('retention.flowsDays must be a whole number of days from 1 to 3650; got "lots"; the default, 30, is used in its place');
    expect(list.stdout).toContain('schedule.cleanupAt holds "{oops", which is not a value Portent can read; the default, "03:30", is used in its place');

    const one = runCli(['config', 'get', 'retention.flowsDays', '--db', db]);
    expect(one).toMatchObject({ status: 0, stdout: '30\n' });
    expect(one.stderr).toContain('got "lots"; the default, 30, is used in its place');
    const json = runCli(['config', 'get', '--json', '--db', db]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)['retention.flowsDays']).toBe(30);
    expect(json.stderr).toContain('schedule.cleanupAt holds "{oops"');
    // Another setting's value is untouched by the notice, and a new value replaces the garbage.
    expect(runCli(['config', 'get', 'retention.packetsDays', '--db', db])).toEqual({ status: 0, stdout: '7\n', stderr: '' });
    expect(runCli(['config', 'set', 'retention.flowsDays', '12', '--db', db]).status).toBe(0);
    expect(runCli(['config', 'get', 'retention.flowsDays', '--db', db])).toEqual({ status: 0, stdout: '12\n', stderr: '' });
  });
});

describe('negative numbers as values', () => {
  it('reach the setting, which says why it refuses them, instead of being taken for a flag', () => {
    const db = path.join(tempDir(), 'portent.db');
    const r = runCli(['config', 'set', 'retention.maxDatabaseMb', '-1', '--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('retention.maxDatabaseMb must be a whole number of megabytes');
    expect(r.stderr).toContain('got -1');
    expect(r.stderr).not.toContain("Unknown option '-1'");
  });

  it('are moved behind --, in order, unless they are the value of an option before them', () => {
    const options = { db: { type: 'string' as const }, json: { type: 'boolean' as const } };
    expect(negativeNumbersAsValues(['set', 'k', '-1', '--db', 'x'], options)).toEqual(['set', 'k', '--db', 'x', '--', '-1']);
    expect(negativeNumbersAsValues(['set', 'k', '-0.5'], options)).toEqual(['set', 'k', '--', '-0.5']);
    expect(negativeNumbersAsValues(['--db', '-1', 'get'], options)).toEqual(['--db', '-1', 'get']);
    expect(negativeNumbersAsValues(['set', 'k', '-x'], options)).toEqual(['set', 'k', '-x']);
    expect(negativeNumbersAsValues(['set', '-2', '--', '-3'], options)).toEqual(['set', '--', '-2', '-3']);
  });
});

import path from 'node:path';
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

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RotatingFile } from '../../../src/main/engine/logFile';
import { tempDir } from '../../support/tmp';

describe('RotatingFile', () => {
  it('appends lines and rotates by size, keeping a bounded number of files', () => {
    const file = path.join(tempDir(), 'logs', 'portent.log');
    const log = new RotatingFile(file, { maxBytes: 100, keep: 2 });
    for (let i = 0; i < 20; i++) log.write(`line ${String(i).padStart(2, '0')} ${'x'.repeat(20)}`);
    log.close();
    const files = fs.readdirSync(path.dirname(file)).sort();
    expect(files).toEqual(['portent.log', 'portent.log.1', 'portent.log.2']);
    for (const f of files) expect(fs.statSync(path.join(path.dirname(file), f)).size).toBeLessThanOrEqual(100);
    // The newest lines are in the current file, the oldest were dropped.
    expect(fs.readFileSync(file, 'utf8')).toMatch(/line 19/);
    const all = files.map((f) => fs.readFileSync(path.join(path.dirname(file), f), 'utf8')).join('');
    expect(all).not.toMatch(/line 00/);
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
  });

  it('continues an existing file after a restart', () => {
    const file = path.join(tempDir(), 'portent.log');
    const a = new RotatingFile(file);
    a.write('first');
    a.close();
    const b = new RotatingFile(file);
    b.write('second');
    b.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('first\nsecond\n');
  });
});

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collectionOptions } from '../../../../src/main/engine/detect/fullCollection';

const MODULE = pathToFileURL(path.resolve(import.meta.dirname, '../../../../src/main/engine/detect/fullCollection.ts')).href;

// A child that fills its heap with ~200 MB of objects, drops them, runs the detector's
// collection, and reports its resident set: at full, and after (300 ms later, for V8's background
// unmapping). What the detection worker does between reading and the refit.
const CHILD = `
const { fullCollection } = await import(${JSON.stringify(MODULE)});
const collect = fullCollection();
if (!collect) throw new Error('no collection function');
const rss = () => process.memoryUsage().rss;
const base = rss();
let held = [];
for (let i = 0; i < 1_200_000; i++) held.push({ i, s: 'row ' + i, pair: [i, i + 1] });
const full = rss();
held = null;
collect();
await new Promise((r) => setTimeout(r, 300));
console.log(JSON.stringify({ base, full, after: rss() }));
`;

describe('the detector\'s full collection', () => {
  it('asks V8 12 and later for a last-resort major collection, and V8 11 for a plain one', () => {
    expect(collectionOptions('11.3.244.8-node.33')).toBeUndefined();
    expect(collectionOptions('12.4.254.21-node.33')).toEqual({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    expect(collectionOptions('14.2.231.14-electron.0')).toEqual({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  });

  it(`gives the freed heap back to the system on this Node (${process.version}, V8 ${process.versions.v8})`, () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { encoding: 'utf8', timeout: 60_000 });
    expect(out.status, out.stderr).toBe(0);
    const { base, full, after } = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { base: number; full: number; after: number };
    const garbage = full - base;
    expect(garbage).toBeGreaterThan(100 * 2 ** 20);
    // Most of what was dropped is no longer resident (a plain gc() on Node 22 left 85% of it).
    expect(after - base).toBeLessThan(0.5 * garbage);
  });
});

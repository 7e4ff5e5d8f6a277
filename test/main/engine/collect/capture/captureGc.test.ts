import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleChild, type ChildBundle } from './support/childBundle';
import { captureAllowed } from './support/privilege';

const allowed = captureAllowed();
const LOOPBACK = process.platform === 'darwin' ? 'lo0' : 'lo';

// cap copies each packet into a Buffer it holds only by raw pointer; if that Buffer were
// collected, libpcap would write into freed memory (seen as "malloc(): unsorted double linked
// list corrupted" aborts). This runs a capture under constant garbage collection.
describe.skipIf(!allowed.ok)(`capture under garbage collection (${allowed.reason || 'privileged'})`, () => {
  let child: ChildBundle;

  beforeAll(async () => {
    child = await bundleChild('gcChild.ts');
  });

  afterAll(() => child?.remove());

  it('4,000 packets through a forgotten capture while the collector runs: no crash, every packet intact', () => {
    const out = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=1', child.script, LOOPBACK], { encoding: 'utf8', timeout: 60_000 });
    expect(out.signal, out.stderr).toBeNull();
    expect(out.status, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    // Ethernet (lo) 14 + IPv4 20 + UDP 8 on Linux; NULL 4 + 20 + 8 on macOS.
    expect(report).toEqual({ sent: 4000, got: 4000, malformed: 0, wrongPorts: 0, sameLengths: true, headerBytes: LOOPBACK === 'lo' ? 42 : 32 });
  });
});

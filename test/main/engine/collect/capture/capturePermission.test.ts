import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleChild, type ChildBundle } from './support/childBundle';
import { setprivUnavailable } from './support/privilege';

const LOOPBACK = process.platform === 'darwin' ? 'lo0' : 'lo';

const reason = setprivUnavailable();

interface ChildReport {
  opened: boolean;
  uid?: number;
  kind?: string;
  message?: string;
  state?: { capturing: boolean; kind: string; iface: string; message: string; remedy: string[] };
  unexpected?: string;
}

describe.skipIf(reason !== null)(`capture without privileges (${reason ?? 'as nobody via setpriv'})`, () => {
  let child: ChildBundle;

  beforeAll(async () => {
    // A world-readable copy, so the test does not depend on the permissions of the checkout.
    child = await bundleChild('openCaptureChild.ts');
  });

  afterAll(() => child?.remove());

  function runAsNobody(extra: string[]): ChildReport {
    const out = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...extra, process.execPath, child.script, LOOPBACK], {
      encoding: 'utf8',
      timeout: 20_000,
      cwd: child.dir,
    });
    const line = out.stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) throw new Error(`child printed no report (status ${out.status}): ${out.stdout}\n${out.stderr}`);
    return JSON.parse(line) as ChildReport;
  }

  it('reports "packet capture is off: permission denied" with how to grant it', () => {
    const report = runAsNobody([]);
    expect(report.uid).toBe(65534);
    expect(report.opened).toBe(false);
    expect(report.kind).toBe('permission-denied');
    expect(report.message).toMatch(new RegExp(`^packet capture is off: permission denied on ${LOOPBACK} \\(.+\\)\\. `));
    // The right goes to the capture helper alone, never to the interpreter or a whole service.
    expect(report.message).toContain('portent capture-setup --group GROUP');
    expect(report.message).not.toMatch(/AmbientCapabilities|setcap/);
    expect(report.state).toMatchObject({ capturing: false, kind: 'permission-denied', iface: LOOPBACK, message: expect.stringMatching(/^packet capture is off: permission denied on /) });
    expect(report.state?.remedy.length).toBeGreaterThan(0);
  });

  it('CAP_NET_RAW alone is enough: the same unprivileged process opens once it holds it', () => {
    // (The capture helper that capture-setup installs carries it as a file capability: see
    // test/main/headless/captureRights.test.ts.)
    const report = runAsNobody(['--inh-caps=+net_raw', '--ambient-caps=+net_raw']);
    expect(report).toEqual({ opened: true, uid: 65534 });
  });
});

import { describe, expect, it } from 'vitest';
import { pidsIn, TrafficUser } from '../../bench/traffic/user';
import type { Incident } from '../../bench/traffic/incidents';

const MIN = 60_000;
const shell: Incident = {
  id: 'reverse-shell-1', kind: 'reverse-shell', start: 600 * MIN, end: 640 * MIN, startRound: 600, endRound: 640, pid: 4121, pids: [4121], process: 'python3',
  exe: '/usr/bin/python3', user: 'ann', remotes: ['203.0.113.7'], domain: null, bytesOut: null, detail: 'python3 holds a connection to 203.0.113.7:4444',
};
const restic = { name: 'restic', exe: '/usr/bin/restic' };

describe('the traffic benchmark simulated user', () => {
  it('marks the first alert about a legitimate program, not the later ones', () => {
    const u = new TrafficUser([shell]);
    expect(u.review({ start: 100 * MIN, end: 110 * MIN, process: restic, sentence: 'restic (pid 300) talked to backup.example.org since 01:50.' })).toBe(true);
    expect(u.review({ start: 2000 * MIN, end: 2010 * MIN, process: restic, sentence: 'restic (pid 301) talked to backup.example.org since 01:50.' })).toBe(false);
    expect(u.approvals).toEqual([{ start: 100 * MIN, program: 'restic' }]);
  });

  it('does not mark an alert overlapping an injected incident, one naming its pid, or one naming no program', () => {
    const u = new TrafficUser([shell]);
    expect(u.review({ start: 630 * MIN, end: 700 * MIN, process: restic, sentence: 'restic (pid 300) talked to backup.example.org.' })).toBe(false);
    expect(u.review({ start: 645 * MIN, end: 646 * MIN, process: restic, sentence: 'restic (pid 300) talked to backup.example.org.' })).toBe(false);
    expect(u.review({ start: 900 * MIN, end: 910 * MIN, process: { name: 'python3', exe: '/usr/bin/python3' }, sentence: 'python3 (pid 4121) talked to 203.0.113.7:4444.' })).toBe(false);
    expect(u.review({ start: 900 * MIN, end: 910 * MIN, process: null, sentence: 'Traffic no program on this machine owns made 35 DNS lookups.' })).toBe(false);
    expect(u.approvals).toEqual([]);
  });

  it('reads the pids a sentence names', () => {
    expect(pidsIn('python3 (pid 4121) talked to 203.0.113.7:4444.')).toEqual([4121]);
    expect(pidsIn('nginx (pids 10, 11, 12, …) sent 2 MB')).toEqual([10, 11, 12]);
    expect(pidsIn('Traffic no program on this machine owns')).toEqual([]);
  });
});

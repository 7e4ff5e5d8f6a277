import { describe, expect, it } from 'vitest';
import { SimulatedUser } from '../../bench/quality/user';
import type { Injected } from '../../bench/quality/generator';

const MIN = 60_000;
const injected: Injected[] = [{ kind: 'new-owner', start: 600 * MIN, end: 640 * MIN, what: '{}', ports: [{ proto: 'tcp', port: 22 }] }];
const node4200 = { proto: 'tcp' as const, port: 4200, process: 'node', exe: '/usr/bin/node' };
const wg = { proto: 'udp' as const, port: 51_820, process: null, exe: null };

describe('SimulatedUser', () => {
  it('marks the first alert of a legitimate service, not its repeats', () => {
    const u = new SimulatedUser(injected);
    expect(u.review({ start: 100 * MIN, end: 110 * MIN, ports: [node4200] })).toBe(true);
    expect(u.review({ start: 2000 * MIN, end: 2010 * MIN, ports: [node4200] })).toBe(false);
    expect(u.services).toEqual(['dev-server-2']);
  });

  it('marks an alert that brings one service not marked yet, with one already marked', () => {
    const u = new SimulatedUser(injected);
    u.review({ start: 100 * MIN, end: 110 * MIN, ports: [node4200] });
    expect(u.review({ start: 300 * MIN, end: 310 * MIN, ports: [node4200, wg] })).toBe(true);
    expect(u.approvals.map((a) => a.services)).toEqual([['dev-server-2'], ['dev-server-2', 'wireguard']]);
  });

  it('does not mark an alert overlapping an injected incident, with a port of no service, or naming nothing', () => {
    const u = new SimulatedUser(injected);
    expect(u.review({ start: 630 * MIN, end: 700 * MIN, ports: [node4200] })).toBe(false);
    expect(u.review({ start: 645 * MIN, end: 646 * MIN, ports: [node4200] })).toBe(false); // within the tolerance after its end
    expect(u.review({ start: 100 * MIN, end: 110 * MIN, ports: [node4200, { proto: 'tcp', port: 4444, process: 'x', exe: '/tmp/.x/x' }] })).toBe(false);
    expect(u.review({ start: 100 * MIN, end: 110 * MIN, ports: [{ proto: 'tcp', port: 22, process: 'sshd', exe: '/tmp/.x/sshd' }] })).toBe(false);
    expect(u.review({ start: 100 * MIN, end: 110 * MIN, ports: [] })).toBe(false);
    expect(u.services).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { NO_FILTER, visibleRows, type PortRow } from '../../src/renderer/src/portRows';

const DAY = 86_400_000;
const now = 100 * DAY;
const row = (proto: 'tcp' | 'udp', port: number, processes: string[], firstSeenAt: number, occupancy: number[]): PortRow => ({
  proto,
  port,
  processes,
  owners: processes.map((p) => ({ process: p, pid: 1 })),
  firstSeenAt,
  occupancy,
});
const rows = [row('tcp', 8080, ['node'], now - DAY, [1, 1]), row('udp', 53, ['dnsmasq'], now - 30 * DAY, [1, 0]), row('tcp', 22, ['sshd'], now - 60 * DAY, [0.5, 0]), row('tcp', 443, [], now - 2 * DAY, [1, 1])];
const ports = (r: PortRow[]) => r.map((p) => `${p.port}/${p.proto}`);

describe('port history rows', () => {
  it('filters by port, process, protocol and new this week', () => {
    expect(ports(visibleRows(rows, { ...NO_FILTER, port: '80' }, 'port', now))).toEqual(['8080/tcp']);
    expect(ports(visibleRows(rows, { ...NO_FILTER, process: 'SSH' }, 'port', now))).toEqual(['22/tcp']);
    expect(ports(visibleRows(rows, { ...NO_FILTER, proto: 'udp' }, 'port', now))).toEqual(['53/udp']);
    expect(ports(visibleRows(rows, { ...NO_FILTER, newThisWeek: true }, 'port', now))).toEqual(['443/tcp', '8080/tcp']);
    expect(visibleRows(rows, { ...NO_FILTER, port: '9', proto: 'tcp' }, 'port', now)).toEqual([]);
  });

  it('sorts by port, process (unknown last), most held, and newest first', () => {
    expect(ports(visibleRows(rows, NO_FILTER, 'port', now))).toEqual(['22/tcp', '53/udp', '443/tcp', '8080/tcp']);
    expect(ports(visibleRows(rows, NO_FILTER, 'process', now))).toEqual(['53/udp', '8080/tcp', '22/tcp', '443/tcp']);
    expect(ports(visibleRows(rows, NO_FILTER, 'held', now))).toEqual(['443/tcp', '8080/tcp', '53/udp', '22/tcp']);
    expect(ports(visibleRows(rows, NO_FILTER, 'new', now))).toEqual(['8080/tcp', '443/tcp', '53/udp', '22/tcp']);
  });
});

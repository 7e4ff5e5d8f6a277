import { describe, expect, it } from 'vitest';
import { allowChoices } from '../../src/renderer/src/allowChoices';
import { ncIncident } from '../support/incidentDetail';

describe('the rules an incident offers as "expected from now on"', () => {
  it('offers its ports that opened, their programs, and each program on its port; not a port that vanished', () => {
    const choices = allowChoices(ncIncident());
    expect(choices.map((c) => c.label)).toEqual(['port 4444/tcp', '/usr/bin/nc', '/usr/bin/nc on port 4444/tcp']);
    expect(choices[0]!.rule).toEqual({ proto: 'tcp', port: 4444, process: null, exe: null, user: null, fromIncidentId: 7 });
  });

  it('offers a traffic incident\'s program as its user and as any user, and a program by name when its executable was unreadable', () => {
    const traffic = allowChoices(ncIncident({ ports: [], program: { name: 'python3', exe: '/usr/bin/python3.12', user: 'ann' } }));
    expect(traffic.map((c) => c.label)).toEqual(['/usr/bin/python3.12 as ann', '/usr/bin/python3.12']);
    const unnamed = allowChoices(ncIncident({ ports: [{ ...ncIncident().ports[0]!, exe: null }] }));
    expect(unnamed.map((c) => c.label)).toEqual(['port 4444/tcp', 'nc']);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngineApi } from '../../../../src/main/engine/api';
import { invokeMethod, type Handlers } from '../../../../src/shared/contract';
import type { Db } from '../../../../src/main/engine/store/database';
import { openTestDb } from '../../../support/db';
import { TestHost } from './host';

/** The incident actions and allow rules through the contract, as the window and the HTTP bridge call them. */

let db: Db;
let api: Handlers;
beforeEach(() => {
  db = openTestDb().db;
  api = createEngineApi(new TestHost(db));
  db.exec(`
    INSERT INTO rounds (id, started_at, host, status) VALUES (1, 60000, 'h', 'ok');
    INSERT INTO incidents (id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence)
      VALUES (1, 1, 1, 60000, 60000, 1, 9, 4, 'Port 4444/tcp started listening: nc, never seen before.');
  `);
});
afterEach(() => db.close());

describe('incident actions through the contract', () => {
  it('adds, lists and removes allow rules, with clear errors for a bad, duplicate or unknown rule', async () => {
    const rule = await invokeMethod(api, 'addAllowRule', [{ proto: 'tcp', port: 4444, fromIncidentId: 1 }]);
    expect(rule).toMatchObject({ id: 1, proto: 'tcp', port: 4444, process: null, exe: null, user: null, fromIncidentId: 1 });
    await expect(invokeMethod(api, 'addAllowRule', [{ proto: 'tcp', port: 4444 }])).rejects.toThrow('rule 1 already allows port 4444/tcp');
    await expect(invokeMethod(api, 'addAllowRule', [{ port: 4444 }])).rejects.toThrow(/Invalid arguments for addAllowRule: .*a port needs its protocol/);
    await expect(invokeMethod(api, 'addAllowRule', [{ exe: '/bin/sh', sql: 'DROP TABLE x' }])).rejects.toThrow('Invalid arguments for addAllowRule');
    expect(await invokeMethod(api, 'listAllowRules', [])).toEqual([rule]);
    expect(await invokeMethod(api, 'removeAllowRule', [1])).toEqual(rule);
    await expect(invokeMethod(api, 'removeAllowRule', [1])).rejects.toThrow('no allow rule 1 (there are none)');
  });

  it('refuses to stop a process of an unknown incident, or one the incident does not name', async () => {
    await expect(invokeMethod(api, 'stopIncidentProcess', [9, 4242])).rejects.toThrow('no incident 9');
    await expect(invokeMethod(api, 'stopIncidentProcess', [1, 4242])).rejects.toThrow('incident 1 names no process with pid 4242 (it names none)');
    await expect(invokeMethod(api, 'stopIncidentProcess', [1, -1])).rejects.toThrow('Invalid arguments for stopIncidentProcess');
  });

  it("gives an incident's detail its processes and actions (none yet)", async () => {
    expect(await invokeMethod(api, 'getIncident', [1])).toMatchObject({ id: 1, processes: [], actions: [] });
  });
});

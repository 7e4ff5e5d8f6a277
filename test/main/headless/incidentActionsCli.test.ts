import { Readable } from 'node:stream';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/main/headless/cli';
import { openDatabase } from '../../../src/main/engine/store/database';
import { ActionStore } from '../../../src/main/engine/store/actionStore';
import { sink } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { alive, endChildren, sleeper } from '../engine/actions/support';

/**
 * `portent anomalies show|stop` and `portent allow` on a real database file, in process: an
 * incident as text and JSON, stopping its (real) process after a confirmation, and allow rules
 * added, listed and removed, with clear errors for what does not exist.
 */

afterEach(endChildren);

async function cli(args: string[], answer?: string): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const stdin = answer === undefined ? Readable.from([]) : Readable.from([answer]);
  const code = await main(args, { stdout: out.stream, stderr: err.stream, env: {}, stdin });
  return { code, out: out.text(), err: err.text() };
}

/** A database with incident 1: `sleep` holding 4444/tcp, its process recorded as it runs now. */
async function withIncident(): Promise<{ file: string; pid: number; exit: Promise<NodeJS.Signals | null> }> {
  const file = path.join(tempDir(), 'portent.db');
  const db = openDatabase(file);
  const { live, exit } = await sleeper();
  db.exec(`
    INSERT INTO rounds (id, started_at, host, status) VALUES (1, 60000, 'h', 'ok');
    INSERT INTO incidents (id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence)
      VALUES (1, 1, 1, 60000, 60000, 1, 9, 4, 'Port 4444/tcp started listening: /usr/bin/sleep, never seen before.');
  `);
  db.prepare("INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected, process, exe, pid) VALUES (1, 0, 'tcp', 4444, 'appeared', 1, 0, 'sleep', '/usr/bin/sleep', ?)").run(live.pid);
  new ActionStore(db).recordProcesses(1, [{ pid: live.pid, exe: '/usr/bin/sleep', name: 'sleep', seenAt: Date.now() }]);
  db.close();
  return { file, pid: live.pid, exit };
}

describe.runIf(process.platform === 'linux')('portent anomalies show and stop', () => {
  it('prints an incident as text or JSON, and says so clearly for an unknown id or format', async () => {
    const { file, pid } = await withIncident();
    const text = await cli(['anomalies', 'show', '1', '--db', file]);
    expect(text.code).toBe(0);
    expect(text.out).toContain('Portent incident 1 [new]\nPort 4444/tcp started listening');
    expect(text.out).toContain(`Processes:\n  sleep (pid ${pid}) /usr/bin/sleep, uid ${process.getuid!()}, ports 4444/tcp\n`);
    const json = await cli(['anomalies', 'show', '1', '--format', 'json', '--db', file]);
    expect(JSON.parse(json.out)).toMatchObject({ id: 1, processes: [{ pid, exe: '/usr/bin/sleep', ports: [{ proto: 'tcp', port: 4444 }] }], actions: [] });
    expect(await cli(['anomalies', 'show', '9', '--db', file])).toMatchObject({ code: 1, err: 'portent anomalies: no incident 9\n' });
    expect(await cli(['anomalies', 'show', '1', '--format', 'xml', '--db', file])).toMatchObject({ code: 2, err: expect.stringContaining("--format must be text or json; got 'xml'") });
    expect(await cli(['anomalies', 'show', '--db', file])).toMatchObject({ code: 2, err: expect.stringContaining('anomalies show needs an incident id') });
  });

  it('names the process, its executable and its ports, and stops nothing without a yes', async () => {
    const { file, pid } = await withIncident();
    const no = await cli(['anomalies', 'stop', '1', '--db', file], 'n\n');
    expect(no.code).toBe(1);
    expect(no.out).toContain(`Stop sleep (pid ${pid}) of incident 1?\n  executable: /usr/bin/sleep\n  ports: 4444/tcp\n`);
    expect(no.out).toContain('Not stopped.');
    const silent = await cli(['anomalies', 'stop', '1', '--db', file]);
    expect(silent.out).toContain('Not stopped: no answer (pass --yes to confirm without a prompt).');
    expect(alive(pid)).toBe(true);
    expect((await cli(['anomalies', 'show', '1', '--format', 'json', '--db', file])).out).toContain('"actions": []');
  });

  it('stops it on yes (typed, or --yes) and records the outcome on the incident', async () => {
    const { file, pid, exit } = await withIncident();
    const yes = await cli(['anomalies', 'stop', '1', '--db', file], 'yes\n');
    expect(yes).toMatchObject({ code: 0, out: expect.stringContaining(`stopped (SIGTERM): /usr/bin/sleep (pid ${pid}) ended on SIGTERM\n`) });
    expect(await exit).toBe('SIGTERM');
    const again = await cli(['anomalies', 'stop', '1', '--yes', '--db', file]);
    expect(again).toMatchObject({ code: 0, out: expect.stringContaining(`already gone: pid ${pid} had already ended`) });
    const shown = await cli(['anomalies', 'show', '1', '--db', file]);
    expect(shown.out).toMatch(new RegExp(`Actions:\\n  \\S+ stop pid ${pid}: stopped \\(SIGTERM\\), .*\\n  \\S+ stop pid ${pid}: already gone, `));
    expect(await cli(['anomalies', 'stop', '1', '--pid', '12', '--yes', '--db', file])).toMatchObject({ code: 1, err: `portent anomalies: incident 1 names no process with pid 12 (it names pid ${pid})\n` });
  });
});

describe('portent allow', () => {
  it('adds, lists and removes rules, refusing bad and duplicate ones and unknown ids', async () => {
    const file = path.join(tempDir(), 'portent.db');
    expect(await cli(['allow', 'list', '--db', file])).toMatchObject({ code: 0, out: 'No allow rules: every port and program can raise an incident.\n' });
    expect(await cli(['allow', 'add', '--port', '8080/TCP', '--db', file])).toMatchObject({ code: 0, out: 'Added rule 1: port 8080/tcp is expected from now on.\n' });
    expect(await cli(['allow', 'add', '--exe', '/usr/sbin/nginx', '--user', 'www-data', '--port', '443/tcp', '--db', file])).toMatchObject({
      code: 0, out: 'Added rule 2: /usr/sbin/nginx as www-data on port 443/tcp is expected from now on.\n',
    });
    expect(await cli(['allow', 'add', '--port', '8080/tcp', '--db', file])).toMatchObject({ code: 1, err: 'portent allow: rule 1 already allows port 8080/tcp\n' });
    expect(await cli(['allow', 'add', '--port', '8080', '--db', file])).toMatchObject({ code: 2, err: expect.stringContaining('like 8080/tcp or 53/udp') });
    expect(await cli(['allow', 'add', '--user', 'root', '--db', file])).toMatchObject({ code: 1, err: expect.stringContaining('name the program too') });
    expect(await cli(['allow', 'add', '--port', '1/tcp', '--incident', '5', '--db', file])).toMatchObject({ code: 1, err: 'portent allow: no incident 5\n' });
    const list = await cli(['allow', 'list', '--db', file]);
    expect(list.out).toMatch(/^ID\s+EXPECTED FROM NOW ON\s+SINCE\s+FROM INCIDENT\n1\s+port 8080\/tcp\s+.+\n2\s+\/usr\/sbin\/nginx as www-data on port 443\/tcp/);
    expect(JSON.parse((await cli(['allow', 'list', '--json', '--db', file])).out)).toHaveLength(2);
    expect(await cli(['allow', 'remove', '1', '--db', file])).toMatchObject({ code: 0, out: 'Removed rule 1: port 8080/tcp can raise incidents again.\n' });
    expect(await cli(['allow', 'remove', '1', '--db', file])).toMatchObject({ code: 1, err: 'portent allow: no allow rule 1\n' });
    expect(await cli(['allow', 'remove', 'x', '--db', file])).toMatchObject({ code: 2 });
    expect(await cli(['allow', 'forget', '--db', file])).toMatchObject({ code: 2, err: expect.stringContaining("expected list, add or remove; got 'forget'") });
  });
});

/**
 * Incident events into Debian's real rsyslog, started by the test on 127.0.0.1 with its UDP and
 * TCP inputs writing what they receive to a file: the RFC 5424 fields arrive as rsyslog parses
 * them, the JSON line intact; an outage loses nothing and sends the waiting events in order;
 * a first run starts at the end of the log.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IncidentLog } from '../../../src/main/engine/incidentLog';
import type { IncidentRow } from '../../../src/main/engine/store/detectionStore';
import { rfc5424, SyslogForwarder, syslogTarget } from '../../../src/main/engine/syslogForwarder';
import { tempDir } from '../../support/tmp';
import { freePort, untilListening } from '../../support/net';
import { createEngineApi } from '../../../src/main/engine/api';
import { silentLogger } from '../../../src/main/engine/log';
import { Monitor } from '../../../src/main/engine/monitor';
import { openDatabase } from '../../../src/main/engine/store/database';
import { SettingsStore } from '../../../src/main/engine/store/settingsStore';

const RSYSLOGD = '/usr/sbin/rsyslogd';
const why = process.platform !== 'linux' ? 'rsyslog is tested on Linux' : fs.existsSync(RSYSLOGD) ? null : "Debian's rsyslog is not installed (scripts/install-system-deps.sh installs it)";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const incident = (id: number, port: number): IncidentRow => ({
  id, runId: id, startRoundId: 1, endRoundId: 1, startedAt: Date.UTC(2026, 11, 5, 3), endedAt: Date.UTC(2026, 11, 5, 3), rounds: 1, peakScore: 9, threshold: 6, status: 'new',
  sentence: `Port ${port}/tcp started listening`, ports: [{ proto: 'tcp', port, direction: 'appeared', share: 1, expected: 0, process: 'nc', exe: '/usr/bin/nc', pid: 4242, firstSeenAt: null, usualProcess: null, usualExe: null }],
});

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) c.kill('SIGTERM');
});

/** rsyslogd in the foreground with UDP and TCP inputs on 127.0.0.1, writing msgid, app, host and msg per line. */
async function rsyslog(dir: string, udp: number, tcp: number): Promise<{ out: string }> {
  const out = path.join(dir, 'received.log');
  const conf = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(conf, [
    `global(workDirectory="${dir}")`,
    'module(load="imudp")',
    `input(type="imudp" address="127.0.0.1" port="${udp}")`,
    'module(load="imtcp")',
    `input(type="imtcp" address="127.0.0.1" port="${tcp}")`,
    'template(name="fields" type="string" string="%syslogfacility-text% %syslogseverity-text% %app-name% %procid% %msgid% %hostname% %msg%\\n")',
    `*.* action(type="omfile" file="${out}" template="fields")`,
    '',
  ].join('\n'));
  const check = spawnSync(RSYSLOGD, ['-N1', '-f', conf], { encoding: 'utf8' });
  expect(check.status, check.stderr).toBe(0);
  const child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], { stdio: 'ignore' });
  started.push(child);
  // Listening once a TCP connection is accepted.
  await untilListening(tcp);
  return { out };
}

async function receivedLines(out: string, n: number): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const lines = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n').filter(Boolean) : [];
    if (lines.length >= n) return lines;
    await sleep(100);
  }
  return fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n') : [];
}

describe('syslog targets and messages', () => {
  it('reads udp://, tcp:// and tls:// targets and nothing else', () => {
    expect(syslogTarget('tcp://127.0.0.1:514')).toEqual({ transport: 'tcp', host: '127.0.0.1', port: 514 });
    expect(syslogTarget('tls://logs.example.net:6514')).toEqual({ transport: 'tls', host: 'logs.example.net', port: 6514 });
    expect(syslogTarget('udp://[::1]:514')).toEqual({ transport: 'udp', host: '::1', port: 514 });
    for (const bad of ['', 'tcp://host', 'http://host:80', 'tcp://host:0', 'tcp://host:99999', 'tcp://ho st:1']) expect(syslogTarget(bad)).toBeNull();
  });

  it('writes an RFC 5424 message: local0, warning for an opened incident, its action as MSGID, the JSON line as MSG', () => {
    const line = JSON.stringify({ '@timestamp': '2026-12-05T03:00:00.000Z', event: { action: 'incident-opened' }, host: { name: 'dev 01' } });
    expect(rfc5424(line, 77)).toBe(`<132>1 2026-12-05T03:00:00.000Z dev01 portent 77 incident-opened - ${line}`);
    expect(rfc5424(JSON.stringify({ event: { action: 'incident-resolved' } }), 1)).toMatch(/^<133>1 - - portent 1 incident-resolved - /);
  });
});

describe.skipIf(why !== null)(`into a real rsyslog (${why ?? 'Debian rsyslog'})`, () => {
  it.each(['tcp', 'udp'] as const)('over %s: the fields arrive as rsyslog parses them, the JSON line intact', async (transport) => {
    const dir = tempDir();
    const [udp, tcp] = [await freePort(), await freePort()];
    const { out } = await rsyslog(dir, udp, tcp);
    const file = path.join(dir, 'logs', 'incidents.jsonl');
    const log = new IncidentLog(file, 'dev-01');
    const forwarder = new SyslogForwarder(file, syslogTarget(`${transport}://127.0.0.1:${transport === 'tcp' ? tcp : udp}`)!);
    // A first run starts at the end of the log: this event is history, not sent.
    log.detection(1, [incident(1, 1111)], 1);
    expect(await forwarder.flush()).toEqual({ sent: 0, dropped: 0, error: null });
    log.detection(2, [incident(2, 4444)], 1);
    log.marked({ ...incident(2, 4444), status: 'seen' });
    expect(await forwarder.flush()).toEqual({ sent: 3, dropped: 0, error: null });
    const lines = await receivedLines(out, 3);
    expect(lines.map((l) => l.split(' ').slice(0, 6).join(' '))).toEqual([
      `local0 warning portent ${process.pid} incident-opened dev-01`,
      `local0 notice portent ${process.pid} incident-resolved dev-01`,
      `local0 notice portent ${process.pid} incident-marked dev-01`,
    ]);
    const first = JSON.parse(lines[0]!.split(' ').slice(6).join(' ')) as { destination: { port: number }; process: { pid: number } };
    expect(first).toMatchObject({ destination: { port: 4444 }, process: { pid: 4242 } });
    log.close();
  });

  it('loses nothing while the receiver is down: the events wait in the log and go, in order, when it is back', async () => {
    const dir = tempDir();
    const [udp, tcp] = [await freePort(), await freePort()];
    const file = path.join(dir, 'logs', 'incidents.jsonl');
    const log = new IncidentLog(file, 'dev-01');
    const forwarder = new SyslogForwarder(file, syslogTarget(`tcp://127.0.0.1:${tcp}`)!);
    await forwarder.flush();
    for (let i = 0; i < 5; i++) log.detection(10 + i, [incident(10 + i, 5000 + i)], 0);
    const down = await forwarder.flush();
    expect(down.sent).toBe(0);
    expect(down.error).toMatch(/ECONNREFUSED/);
    const { out } = await rsyslog(dir, udp, tcp);
    expect(await forwarder.flush()).toEqual({ sent: 5, dropped: 0, error: null });
    // Sent once: a further flush has nothing to send.
    expect(await forwarder.flush()).toEqual({ sent: 0, dropped: 0, error: null });
    const lines = await receivedLines(out, 5);
    expect(lines.map((l) => (JSON.parse(l.split(' ').slice(6).join(' ')) as { destination: { port: number } }).destination.port)).toEqual([5000, 5001, 5002, 5003, 5004]);
    log.close();
  });
});

describe.skipIf(why !== null)(`the monitor's syslog forwarding (${why ?? 'Debian rsyslog'})`, () => {
  it('sends the line of an incident the user marks, after the next round, to the receiver syslog.target names', async () => {
    const dir = tempDir();
    const [udp, tcp] = [await freePort(), await freePort()];
    const { out } = await rsyslog(dir, udp, tcp);
    const dbPath = path.join(dir, 'portent.db');
    const seed = openDatabase(dbPath);
    new SettingsStore(seed).set('syslog.target', `tcp://127.0.0.1:${tcp}`);
    seed.exec(`
      INSERT INTO rounds (id, started_at, host, status) VALUES (1, 1000, 'h', 'ok');
      INSERT INTO detection_runs (id, trigger, started_at, status) VALUES (1, 'manual', 1000, 'ok');
      INSERT INTO incidents (id, run_id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence) VALUES (1, 1, 1, 1, 1000, 1000, 1, 9, 6, 'Port 4444/tcp started listening');
      INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected, process, pid) VALUES (1, 0, 'tcp', 4444, 'appeared', 1, 0, 'nc', 4242);
    `);
    seed.close();
    const monitor = new Monitor({ dbPath, log: silentLogger, roundSeconds: 1, capture: false });
    monitor.start();
    try {
      // The first round starts the cursor at the end of the log.
      await new Promise<void>((resolve) => monitor.once('changed', () => resolve()));
      await sleep(1500);
      createEngineApi(monitor).setIncidentStatus(1, 'seen');
      const lines = await receivedLines(out, 1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^local0 notice portent ${process.pid} incident-marked `));
      expect(JSON.parse(lines[0]!.split(' ').slice(6).join(' '))).toMatchObject({ portent: { incident: { id: 1, status: 'seen' } }, destination: { port: 4444 } });
      expect(monitor.forwardingStats()).toEqual([{ receiver: 'syslog', sent: 1, dropped: 0 }]);
    } finally {
      await monitor.stop();
    }
  }, 30_000);
});

const GTLS = '/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so';
const whyNoTls = why ?? (fs.existsSync(GTLS) ? null : "rsyslog's TLS module is not installed (rsyslog-gnutls; scripts/install-system-deps.sh installs it)");

/** A CA and a certificate for 127.0.0.1 signed by it, made with openssl for this test only. */
function certificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string) => path.join(dir, name);
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=Portent test CA', '-keyout', f('ca-key.pem'), '-out', f('ca.pem')]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('key.pem'), '-out', f('req.pem')]);
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName = IP:127.0.0.1\n');
  run(['x509', '-req', '-in', f('req.pem'), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-days', '1', '-extfile', f('ext.cnf'), '-out', f('cert.pem')]);
  return { ca: f('ca.pem'), cert: f('cert.pem'), key: f('key.pem') };
}

describe.skipIf(whyNoTls !== null)(`over TLS into a real rsyslog (${whyNoTls ?? 'Debian rsyslog with gtls'})`, () => {
  it('delivers over tls:// to a receiver whose certificate the configured CA signed, and refuses one it did not', async () => {
    const dir = tempDir();
    const { ca, cert, key } = certificates(dir);
    const port = await freePort();
    const out = path.join(dir, 'received.log');
    const conf = path.join(dir, 'rsyslog.conf');
    fs.writeFileSync(conf, [
      `global(workDirectory="${dir}" DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${ca}" DefaultNetstreamDriverCertFile="${cert}" DefaultNetstreamDriverKeyFile="${key}")`,
      'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")',
      `input(type="imtcp" address="127.0.0.1" port="${port}")`,
      'template(name="fields" type="string" string="%msgid% %app-name% %msg%\\n")',
      `*.* action(type="omfile" file="${out}" template="fields")`,
      '',
    ].join('\n'));
    const check = spawnSync(RSYSLOGD, ['-N1', '-f', conf], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    started.push(spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], { stdio: 'ignore' }));
    await untilListening(port);
    const file = path.join(dir, 'logs', 'incidents.jsonl');
    const log = new IncidentLog(file, 'dev-01');
    // Without the CA, the receiver's certificate is not trusted: nothing is sent, the event waits.
    const untrusting = new SyslogForwarder(file, syslogTarget(`tls://127.0.0.1:${port}`)!);
    const trusting = new SyslogForwarder(path.join(dir, 'logs', 'incidents.jsonl'), syslogTarget(`tls://127.0.0.1:${port}`)!, { caFile: ca });
    await untrusting.flush();
    log.detection(3, [incident(3, 7777)], 1);
    const refused = await untrusting.flush();
    expect(refused.sent).toBe(0);
    expect(refused.error).toMatch(/self.signed|unable to (get|verify)|certificate/i);
    // The trusting forwarder shares the cursor file, still at the waiting event.
    expect(await trusting.flush()).toEqual({ sent: 1, dropped: 0, error: null });
    const lines = await receivedLines(out, 1);
    expect(lines[0]).toMatch(/^incident-opened portent \{/);
    expect((JSON.parse(lines[0]!.split(' ').slice(2).join(' ')) as { destination: { port: number } }).destination.port).toBe(7777);
    log.close();
  }, 60_000);
});


/**
 * Incident events as OTLP/HTTP logs, through the official OpenTelemetry exporter. Debian has no
 * OpenTelemetry Collector to start, so the receiver is a local HTTP server of this test that
 * answers as a Collector's OTLP/HTTP receiver does; the payload is checked against OTLP's JSON
 * shape (resourceLogs → scopeLogs → logRecords, attributes as key/value pairs, times in
 * nanoseconds as strings).
 */
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IncidentLog } from '../../../src/main/engine/incidentLog';
import { OtlpForwarder, otlpEndpoint } from '../../../src/main/engine/otlpForwarder';
import type { IncidentRow } from '../../../src/main/engine/store/detectionStore';
import { tempDir } from '../../support/tmp';

type AnyValue = { stringValue?: string; intValue?: string | number };
interface LogsRequest {
  resourceLogs: { resource: { attributes: { key: string; value: AnyValue }[] }; scopeLogs: { scope: { name: string }; logRecords: { timeUnixNano: string; severityNumber: number; severityText: string; body: AnyValue; attributes: { key: string; value: AnyValue }[] }[] }[] }[];
}

const incident = (id: number, port: number): IncidentRow => ({
  id, runId: id, startRoundId: 1, endRoundId: 1, startedAt: Date.UTC(2026, 11, 5, 3), endedAt: Date.UTC(2026, 11, 5, 3), rounds: 1, peakScore: 9, threshold: 6, status: 'new',
  sentence: `Port ${port}/tcp started listening`, ports: [{ proto: 'tcp', port, direction: 'appeared', share: 1, expected: 0, process: 'nc', exe: '/usr/bin/nc', pid: 4242, firstSeenAt: null, usualProcess: null, usualExe: null }],
});

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** An OTLP/HTTP logs receiver on 127.0.0.1 (port 0: any; or the given one). */
async function receiver(port = 0): Promise<{ url: string; requests: LogsRequest[]; server: http.Server }> {
  const requests: LogsRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/logs' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(400).end();
        return;
      }
      requests.push(JSON.parse(body) as LogsRequest);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/v1/logs`, requests, server };
}

const attr = (list: { key: string; value: AnyValue }[], key: string) => list.find((a) => a.key === key)?.value;

describe('OTLP forwarding', () => {
  it('reads http(s) endpoints only', () => {
    expect(otlpEndpoint('http://127.0.0.1:4318/v1/logs')).toBe('http://127.0.0.1:4318/v1/logs');
    expect(otlpEndpoint('udp://x:1')).toBeNull();
    expect(otlpEndpoint('nonsense')).toBeNull();
  });

  it('sends each incident event as one log record in OTLP JSON, with its ECS line as the body', async () => {
    const { url, requests } = await receiver();
    const file = path.join(tempDir(), 'logs', 'incidents.jsonl');
    const log = new IncidentLog(file, 'dev-01');
    const forwarder = new OtlpForwarder(file, url, { host: 'dev-01', timeoutMs: 2000 });
    await forwarder.flush(); // starts at the end of the log
    log.detection(2, [incident(2, 4444)], 1);
    log.marked({ ...incident(2, 4444), status: 'seen' });
    expect(await forwarder.flush()).toEqual({ sent: 2, dropped: 0, error: null });
    expect(requests).toHaveLength(1);
    const [resourceLogs] = requests[0]!.resourceLogs;
    expect(attr(resourceLogs!.resource.attributes, 'service.name')).toEqual({ stringValue: 'portent' });
    expect(attr(resourceLogs!.resource.attributes, 'host.name')).toEqual({ stringValue: 'dev-01' });
    const { scope, logRecords } = resourceLogs!.scopeLogs[0]!;
    expect(scope.name).toBe('portent');
    expect(logRecords.map((r) => [r.severityNumber, r.severityText, attr(r.attributes, 'event.name')?.stringValue])).toEqual([
      [13, 'WARN', 'portent.incident-opened'],
      [9, 'INFO', 'portent.incident-marked'],
    ]);
    expect(logRecords[0]!.timeUnixNano).toMatch(/^\d{19}$/);
    const body = JSON.parse(logRecords[0]!.body.stringValue!) as { destination: { port: number } };
    expect(body.destination.port).toBe(4444);
    expect(Number(attr(logRecords[0]!.attributes, 'process.pid')?.intValue)).toBe(4242);
    expect(Number(attr(logRecords[0]!.attributes, 'server.port')?.intValue)).toBe(4444);
    await forwarder.shutdown();
    log.close();
  });

  it('keeps events while the receiver is down and sends them, once, when it is back', async () => {
    const { url, server } = await receiver();
    const port = Number(new URL(url).port);
    await new Promise((resolve) => server.close(resolve));
    const file = path.join(tempDir(), 'logs', 'incidents.jsonl');
    const log = new IncidentLog(file, 'dev-01');
    const forwarder = new OtlpForwarder(file, url, { timeoutMs: 2000 });
    await forwarder.flush();
    for (let i = 0; i < 3; i++) log.detection(10 + i, [incident(10 + i, 6000 + i)], 0);
    const down = await forwarder.flush();
    expect(down.sent).toBe(0);
    expect(down.error).not.toBeNull();
    const back = await receiver(port);
    expect(await forwarder.flush()).toEqual({ sent: 3, dropped: 0, error: null });
    expect(await forwarder.flush()).toEqual({ sent: 0, dropped: 0, error: null });
    const ports = back.requests.flatMap((r) => r.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((l) => (JSON.parse(l.body.stringValue!) as { destination: { port: number } }).destination.port));
    expect(ports).toEqual([6000, 6001, 6002]);
    await forwarder.shutdown();
    log.close();
  }, 30_000);
});

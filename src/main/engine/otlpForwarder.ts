/**
 * Incident events to an OpenTelemetry Collector (or any OTLP/HTTP logs receiver) at the URL the
 * `otlp.endpoint` setting names, through the official OpenTelemetry exporter: each incident log
 * line becomes one log record, its JSON line as the body, its ECS fields that OpenTelemetry's
 * semantic conventions name as attributes (`event.name`, `host.name`, `process.pid`, ...), and
 * `service.name` portent on the resource. The queue is the incident log, as for syslog
 * (LogForwarder): an export the receiver did not accept leaves the lines waiting.
 *
 * The exporter and its dependencies (some 10 MB of a Node process's heap and code) are loaded when
 * a forwarder is made, that is only when `otlp.endpoint` is set, not at every start.
 */
import os from 'node:os';
import type { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { PORTENT_VERSION } from '../../shared/version';
import { LogForwarder } from './syslogForwarder';

/** OpenTelemetry's severity numbers: WARN for an opened or extended incident, INFO otherwise. */
const SEVERITY: Record<string, { number: number; text: string }> = {
  'incident-opened': { number: 13, text: 'WARN' },
  'incident-extended': { number: 13, text: 'WARN' },
};
const INFO = { number: 9, text: 'INFO' };
/** One scope object for every record: the exporter groups records by the scope object they share. */
const SCOPE = { name: 'portent', version: PORTENT_VERSION };

interface IncidentLine {
  '@timestamp'?: string;
  event?: { action?: string };
  host?: { name?: string };
  process?: { pid?: number; name?: string; executable?: string };
  destination?: { port?: number };
  network?: { transport?: string };
  portent?: { incident?: { id?: number; status?: string } };
}

/** `http(s)://…` or null. */
export function otlpEndpoint(text: string): string | null {
  try {
    const url = new URL(text.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}

/** One incident log line as an OTLP log record. */
export function logRecord(line: string, resource: Resource): ReadableLogRecord {
  const e = JSON.parse(line) as IncidentLine;
  const ms = e['@timestamp'] ? Date.parse(e['@timestamp']) : Date.now();
  const action = e.event?.action ?? 'incident';
  const severity = SEVERITY[action] ?? INFO;
  const attributes: Record<string, string | number> = { 'event.name': `portent.${action}` };
  if (e.portent?.incident?.id !== undefined) attributes['portent.incident.id'] = e.portent.incident.id;
  if (e.portent?.incident?.status) attributes['portent.incident.status'] = e.portent.incident.status;
  if (e.process?.pid !== undefined) attributes['process.pid'] = e.process.pid;
  if (e.process?.executable) attributes['process.executable.path'] = e.process.executable;
  if (e.destination?.port !== undefined) attributes['server.port'] = e.destination.port;
  if (e.network?.transport) attributes['network.transport'] = e.network.transport;
  const time: [number, number] = [Math.floor(ms / 1000), (ms % 1000) * 1e6];
  return {
    hrTime: time,
    hrTimeObserved: time,
    severityNumber: severity.number,
    severityText: severity.text,
    body: line,
    resource,
    instrumentationScope: SCOPE,
    attributes,
    droppedAttributesCount: 0,
  } as ReadableLogRecord;
}

/** The `service.*` and `host.name` resource every record carries. */
async function portentResource(host: string = os.hostname()): Promise<Resource> {
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  return resourceFromAttributes({ 'service.name': 'portent', 'service.version': PORTENT_VERSION, 'host.name': host });
}

export class OtlpForwarder extends LogForwarder {
  private readonly ready: Promise<{ exporter: OTLPLogExporter; resource: Resource }>;

  constructor(logFile: string, url: string, options: { timeoutMs?: number; host?: string } = {}) {
    super(logFile, 'otlp');
    this.ready = Promise.all([import('@opentelemetry/exporter-logs-otlp-http'), portentResource(options.host)]).then(([{ OTLPLogExporter }, resource]) => ({
      exporter: new OTLPLogExporter({ url, timeoutMillis: options.timeoutMs ?? 10_000 }),
      resource,
    }));
    // A failure shows at the first send (or shutdown), not as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  protected async send(lines: string[]): Promise<void> {
    const { exporter, resource } = await this.ready;
    const records = lines.map((l) => logRecord(l, resource));
    return new Promise((resolve, reject) =>
      exporter.export(records, (result) => (result.code === 0 ? resolve() : reject(result.error ?? new Error('the OTLP receiver did not accept the export')))),
    );
  }

  override async shutdown(): Promise<void> {
    return (await this.ready).exporter.shutdown();
  }
}

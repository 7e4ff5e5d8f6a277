import { z } from 'zod';
import type { MethodName } from './methods';
import { AllowRuleInputSchema, AllowRuleSchema } from './allowRule';

export { channelOf, METHOD_NAMES, type MethodName } from './methods';

/**
 * The one contract between the UI and the engine. Each method names its argument schema and its
 * result schema; the Electron preload, the IPC handlers and the local HTTP bridge are all derived
 * from this table, and every argument is validated against it before a handler runs. Times are
 * milliseconds since the epoch throughout.
 */

const time = z.number().int().nonnegative();
const id = z.number().int().positive();
const proto = z.enum(['tcp', 'udp']);
const portNumber = z.number().int().min(0).max(65535);

export const CaptureStateSchema = z.object({
  state: z.enum(['starting', 'on', 'off', 'error']),
  iface: z.string().nullable(),
  message: z.string().nullable(),
  /** How to turn capture on, when it is off for lack of privileges. */
  remedy: z.array(z.string()),
  /** Times the capture process was started again after it died, since the monitor started. */
  restarts: z.number().int().nonnegative().optional(),
  /** Why it last died, and when (null: it has not). */
  lastFailure: z.object({ at: time, message: z.string() }).nullable().optional(),
});

/**
 * Whether rounds are being stored. While a fault stops them (a full disk, a database another
 * program holds locked, a clock stepped back behind the newest round), rounds are skipped and
 * counted, what is stored is kept, and recording resumes by itself once the fault is gone.
 */
export const RecordingStateSchema = z.object({
  state: z.enum(['recording', 'disk-full', 'database-locked', 'clock-behind']),
  /** When the fault began (null while recording). */
  since: time.nullable(),
  /** What is wrong and what happens meanwhile (null while recording). */
  message: z.string().nullable(),
  /** Rounds skipped since the fault began. */
  roundsSkipped: z.number().int().nonnegative(),
  /** Rounds skipped for any fault since the monitor started. */
  skippedTotal: z.number().int().nonnegative(),
});
export type RecordingState = z.infer<typeof RecordingStateSchema>;

export const ModelStateSchema = z.object({
  /** none: never trained; learning: trained on less history than the learning period; ready: alerts. */
  state: z.enum(['none', 'learning', 'ready']),
  training: z.boolean(),
  backend: z.string().nullable(),
  version: z.number().int().nullable(),
  threshold: z.number().nullable(),
  /** Rounds of history the model has taken in: what the learning period counts. */
  roundsSeen: z.number().int().nonnegative(),
  roundsNeeded: z.number().int().nonnegative(),
  /** 0..1 of the learning period covered. */
  progress: z.number().min(0).max(1),
});

export const StatusSchema = z.object({
  version: z.string(),
  /** The monitor runs (in this process, or in a service on the same database). */
  monitoring: z.boolean(),
  paused: z.boolean(),
  monitoringSince: time.nullable(),
  database: z.string(),
  databaseBytes: z.number().int().nonnegative(),
  lastRound: z
    .object({ id, startedAt: time, status: z.enum(['running', 'ok', 'failed']), error: z.string().nullable(), ports: z.number().int().nonnegative() })
    .nullable(),
  capture: CaptureStateSchema,
  model: ModelStateSchema,
  detection: z.object({ running: z.boolean(), lastRunAt: time.nullable(), lastRunStatus: z.enum(['running', 'ok', 'failed', 'cancelled']).nullable() }),
  unscoredRounds: z.number().int().nonnegative(),
  incidents: z.object({ today: z.number().int().nonnegative(), week: z.number().int().nonnegative(), unseen: z.number().int().nonnegative() }),
  /** Notifications are silent until then (null: not snoozed). */
  snoozedUntil: time.nullable(),
  /** Seconds between the running monitor's rounds; absent when no monitor runs (a round is then a minute). */
  roundSeconds: z.number().int().positive().optional(),
  /** Start of the oldest round kept (null: nothing recorded yet), so a view can fit its range to the data. */
  firstRoundAt: time.nullable().optional(),
  /** Whether the running monitor stores its rounds, or what keeps it from doing so; absent when none runs. */
  recording: RecordingStateSchema.optional(),
});
export type Status = z.infer<typeof StatusSchema>;

export const ScorePointSchema = z.object({
  roundId: id,
  at: time,
  score: z.number(),
  /** Null while learning: nothing was compared. */
  threshold: z.number().nullable(),
  anomalous: z.boolean(),
});
export type ScorePoint = z.infer<typeof ScorePointSchema>;

export const IncidentPortSchema = z.object({
  proto,
  port: portNumber,
  /** new-owner: a known port held by a program never seen holding it (usualProcess/usualExe: who usually does). */
  direction: z.enum(['appeared', 'vanished', 'unusual-hour', 'new-owner']),
  /** This port's share of the incident's reconstruction error, 0..1. */
  share: z.number().min(0).max(1),
  /** The model's expected chance that the port is occupied then, 0..1. */
  expected: z.number().min(0).max(1),
  process: z.string().nullable(),
  exe: z.string().nullable(),
  pid: z.number().int().nullable(),
  firstSeenAt: time.nullable(),
  usualProcess: z.string().nullable(),
  usualExe: z.string().nullable(),
});

export const IncidentStatusSchema = z.enum(['new', 'seen', 'expected', 'dismissed']);

/** Which model's story an incident tells: the port model's, the traffic model's, or one program's both at once. */
export const IncidentKindSchema = z.enum(['ports', 'traffic', 'both']);
export type IncidentKind = z.infer<typeof IncidentKindSchema>;

export const TrafficKindSchema = z.enum(['new-destination', 'beacon', 'volume-out', 'scan', 'dns-tunnel', 'unusual-traffic']);
export type TrafficKind = z.infer<typeof TrafficKindSchema>;

/** A remote end a traffic incident names, most telling first. */
export const IncidentEndpointSchema = z.object({
  proto: z.string(),
  /** Empty when a DNS name was looked up through a resolver the socket table did not see. */
  address: z.string(),
  /** 0 for an address that probed this machine (no one remote port). */
  port: portNumber,
  direction: z.enum(['out', 'in']),
  /** The DNS name the program looked the address up by, if any. */
  name: z.string().nullable(),
  /** Never seen before for this program; never seen before for any program here. */
  newForProcess: z.boolean(),
  newAnywhere: z.boolean(),
  firstSeenAt: time.nullable(),
  /** Since when a connection to it has been held open, if one is. */
  heldSince: time.nullable(),
  /** Connections opened (for a probing address: the local ports it tried). */
  opened: z.number().int().nonnegative(),
  bytesOut: z.number().int().nonnegative(),
  bytesIn: z.number().int().nonnegative(),
  /** The beat of its connections when they are periodic. */
  periodMs: z.number().int().nonnegative().nullable(),
});
export type IncidentEndpoint = z.infer<typeof IncidentEndpointSchema>;

/** A feature that drove a traffic incident: its share of the explanation, the value seen and the one the model expected (scaled, mostly 0..1). */
export const IncidentFeatureSchema = z.object({
  feature: z.string(),
  share: z.number().min(0).max(1),
  value: z.number(),
  expected: z.number(),
});
export type IncidentFeature = z.infer<typeof IncidentFeatureSchema>;

/** The program whose traffic a traffic incident is about. */
export const IncidentProgramSchema = z.object({ name: z.string().nullable(), exe: z.string().nullable(), user: z.string().nullable() });

export const IncidentSummarySchema = z.object({
  id,
  startedAt: time,
  endedAt: time,
  rounds: z.number().int().positive(),
  peakScore: z.number(),
  threshold: z.number(),
  status: IncidentStatusSchema,
  /** One sentence saying what happened. */
  sentence: z.string(),
  ports: z.array(IncidentPortSchema),
  kind: IncidentKindSchema,
  /** Null for port incidents. */
  trafficKind: TrafficKindSchema.nullable(),
  /** Null for port incidents and for traffic no program owns (a scan of this machine). */
  program: IncidentProgramSchema.nullable(),
  /** Empty for port incidents. */
  endpoints: z.array(IncidentEndpointSchema),
  /** Largest share first; empty for port incidents. */
  features: z.array(IncidentFeatureSchema),
});
export type IncidentSummary = z.infer<typeof IncidentSummarySchema>;

export const FlowSummarySchema = z.object({
  proto: z.string(),
  localAddr: z.string().nullable(),
  localPort: portNumber.nullable(),
  remoteAddr: z.string().nullable(),
  remotePort: portNumber.nullable(),
  direction: z.enum(['outbound', 'inbound', 'local', 'transit']),
  packets: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  firstAt: time,
  lastAt: time,
  process: z.string().nullable(),
});
export type FlowSummary = z.infer<typeof FlowSummarySchema>;

/**
 * A process an incident names, with what identifies it beyond its pid as read when the incident
 * was created: its start time in clock ticks since boot (null: not read, so it is never
 * signalled) and its executable. Ports: those of the incident it held.
 */
export const IncidentProcessSchema = z.object({
  pid: z.number().int().positive(),
  startTicks: z.number().int().nonnegative().nullable(),
  exe: z.string().nullable(),
  name: z.string().nullable(),
  uid: z.number().int().nonnegative().nullable(),
  ports: z.array(z.object({ proto, port: portNumber })),
});
export type IncidentProcess = z.infer<typeof IncidentProcessSchema>;

/**
 * Something done about an incident and how it ended. stop: sigterm (ended on SIGTERM), sigkill
 * (needed SIGKILL after the grace period), gone (had already ended), refused (not signalled:
 * detail says why), failed (signalled and still running).
 */
export const IncidentActionSchema = z.object({
  at: time,
  action: z.literal('stop'),
  pid: z.number().int().nullable(),
  outcome: z.enum(['sigterm', 'sigkill', 'gone', 'refused', 'failed']),
  detail: z.string(),
});
export type IncidentAction = z.infer<typeof IncidentActionSchema>;

/** A stretch of time an incident covered: one, unless its cause came back after a pause (not told again). */
export const IncidentEpisodeSchema = z.object({ startedAt: time, endedAt: time });
export type IncidentEpisode = z.infer<typeof IncidentEpisodeSchema>;

export const IncidentDetailSchema = IncidentSummarySchema.extend({
  /** When it was there, oldest first: its first episode, then each return of the same cause after a pause. */
  episodes: z.array(IncidentEpisodeSchema).min(1),
  /** The processes it names, as recorded when it was created (what stopping one checks against). */
  processes: z.array(IncidentProcessSchema),
  /** What was done about it, oldest first. */
  actions: z.array(IncidentActionSchema),
  /** Scores of the incident's rounds and of some rounds either side, oldest first. */
  scores: z.array(ScorePointSchema),
  /** Flows recorded in the incident's rounds (largest first, bounded). */
  flows: z.array(FlowSummarySchema),
  /** DNS names queried or answered in the incident's rounds. */
  dns: z.array(z.string()),
});
export type IncidentDetail = z.infer<typeof IncidentDetailSchema>;

/**
 * A stretch of time in which Portent recorded no successful round. failed: rounds ran and failed
 * (detail: how many, and the last error); paused, stopped: the monitor was paused or not running;
 * no-history: before the oldest round kept; unknown: no round, and nothing recorded why (stopped,
 * paused, or the computer asleep).
 */
export const RecordingGapSchema = z.object({
  from: time,
  to: time,
  reason: z.enum(['failed', 'paused', 'stopped', 'no-history', 'unknown']),
  detail: z.string().nullable(),
});
export type RecordingGap = z.infer<typeof RecordingGapSchema>;

export const TimelineSchema = z.object({
  from: time,
  to: time,
  bucketMs: z.number().int().positive(),
  /** Rounds recorded in each bucket (0: a gap, nothing is drawn). */
  rounds: z.array(z.number().int().nonnegative()),
  ports: z.array(
    z.object({
      proto,
      port: portNumber,
      processes: z.array(z.string()),
      /** The named programs and pids that held it in the range (at most a few per port). */
      owners: z.array(z.object({ process: z.string(), pid: z.number().int().nullable() })),
      /** When Portent first saw the port occupied, ever (not only in the range). */
      firstSeenAt: time,
      /** Per bucket, the fraction 0..1 of that bucket's rounds in which the port was occupied. */
      occupancy: z.array(z.number().min(0).max(1)),
    }),
  ),
  /** More ports were occupied in the range than returned (the least occupied were left out). */
  truncated: z.boolean(),
  /** Where in the range Portent was not recording, oldest first; nothing is known there. */
  gaps: z.array(RecordingGapSchema),
});
export type Timeline = z.infer<typeof TimelineSchema>;

export const PortHistorySchema = z.object({
  proto,
  port: portNumber,
  firstSeenAt: time.nullable(),
  lastSeenAt: time.nullable(),
  /** Intervals in which the port was occupied in consecutive rounds, oldest first. */
  occupied: z.array(z.object({ from: time, to: time })),
  /** Who owned it over time, oldest first. */
  owners: z.array(z.object({ process: z.string().nullable(), exe: z.string().nullable(), user: z.string().nullable(), pid: z.number().int().nullable(), from: time, to: time })),
  /** Its traffic per bucket of the range. */
  traffic: z.array(z.object({ at: time, packets: z.number().int().nonnegative(), bytes: z.number().int().nonnegative(), flows: z.number().int().nonnegative() })),
  /** Successful rounds in the range, and how many of them had packet capture on (traffic is only known for those). */
  rounds: z.number().int().nonnegative(),
  captureRounds: z.number().int().nonnegative(),
  /** Where in the range Portent was not recording. */
  gaps: z.array(RecordingGapSchema),
});
export type PortHistory = z.infer<typeof PortHistorySchema>;

const CONNECTION_STATE = z.enum(['syn-sent', 'syn-recv', 'established', 'fin-wait-1', 'fin-wait-2', 'close-wait', 'last-ack', 'closing', 'connected']);
const count = z.number().int().nonnegative();

export const ConnectionEndpointSchema = z.object({
  proto,
  address: z.string(),
  /** The peer's port; 0 for a connection a local listener accepted (the peer's port is ephemeral). */
  port: portNumber,
  /** out: this machine opened it; in: a local listener accepted it, on localPort. */
  direction: z.enum(['out', 'in']),
  localPort: portNumber.nullable(),
  /** The name this machine last resolved to the address, when capture saw it. */
  name: z.string().nullable(),
  states: z.array(CONNECTION_STATE),
  /** The most sockets the process held to this endpoint in one round. */
  maxSockets: z.number().int().positive(),
  /** Start of the first and of the last round in the range that saw the connection. */
  firstSeenAt: time,
  lastSeenAt: time,
  /** The machine first talked with this endpoint inside the range. */
  isNew: z.boolean(),
  /** What capture counted between the process and this endpoint in the range; null when it saw nothing. */
  traffic: z.object({ bytesOut: count, bytesIn: count, packetsOut: count, packetsIn: count }).nullable(),
});
export type ConnectionEndpoint = z.infer<typeof ConnectionEndpointSchema>;

export const ConnectionsSchema = z.object({
  from: time,
  to: time,
  /** Per process, most endpoints first; owner fields all null for sockets whose owner was unknown. */
  processes: z.array(
    z.object({ process: z.string().nullable(), exe: z.string().nullable(), user: z.string().nullable(), endpoints: z.array(ConnectionEndpointSchema) }),
  ),
  /** More endpoints matched than returned (the least recently seen were left out). */
  truncated: z.boolean(),
});
export type Connections = z.infer<typeof ConnectionsSchema>;

export const DetectionRunSchema = z.object({
  id,
  trigger: z.enum(['schedule', 'manual']),
  startedAt: time,
  endedAt: time.nullable(),
  status: z.enum(['running', 'ok', 'failed', 'cancelled']),
  roundsScored: z.number().int().nonnegative(),
  incidents: z.number().int().nonnegative(),
  backend: z.string().nullable(),
  modelVersion: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type DetectionRun = z.infer<typeof DetectionRunSchema>;

export const ModelVersionSchema = z.object({
  version: z.number().int(),
  createdAt: time,
  backend: z.string(),
  threshold: z.number().nullable(),
  /** Training windows the model has been fitted on over its life (a replayed round counts each time). */
  roundsTrained: z.number().int().nonnegative(),
  /** Loss per epoch of the refit that produced this version. */
  history: z.array(z.object({ loss: z.number(), valLoss: z.number().nullable() })),
});
export type ModelVersion = z.infer<typeof ModelVersionSchema>;

export const DetectNowResultSchema = z.discriminatedUnion('started', [
  z.object({ started: z.literal(false), reason: z.string() }),
  z.object({
    started: z.literal(true),
    roundsScored: z.number().int().nonnegative(),
    incidents: z.number().int().nonnegative(),
    learning: z.boolean(),
    backend: z.string(),
  }),
]);
export type DetectNowResult = z.infer<typeof DetectNowResultSchema>;

export const SettingsViewSchema = z.object({
  /** Every setting's current value; the schema per key is `SETTINGS` in settings.ts. */
  values: z.record(z.string(), z.unknown()),
  /** Keys the user changed from their default. */
  changed: z.array(z.string()),
  /** Stored values the schema refuses (edited by hand, left by a newer Portent), each with why; their defaults apply. */
  invalid: z.array(z.object({ key: z.string(), stored: z.string(), reason: z.string() })).optional(),
  /** What `capture.interface` may name on this machine, and the interface an empty value means (null: none). */
  interfaces: z
    .object({ names: z.array(z.object({ name: z.string(), addresses: z.array(z.string()), loopback: z.boolean() })), default: z.string().nullable() })
    .optional(),
});
export type SettingsView = z.infer<typeof SettingsViewSchema>;

export const SetSettingResultSchema = z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), value: z.unknown() }), z.object({ ok: z.literal(false), error: z.string() })]);
export type SetSettingResult = z.infer<typeof SetSettingResultSchema>;

const bytes = z.number().int().nonnegative();
/** A local calendar day, as YYYY-MM-DD. */
export const REPORT_DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const reportDay = z.string().regex(REPORT_DAY, { error: 'must be a day as YYYY-MM-DD' });
const owner = { process: z.string().nullable(), exe: z.string().nullable(), user: z.string().nullable() };

/** What the daily report's notification and list tell: the counts of its three kinds of news. */
export const ReportSummarySchema = z.object({
  incidents: count,
  /** Ports that opened for the first time ever. */
  newListeners: count,
  /** Programs that talked out for the first time ever. */
  newTalkers: count,
});
export type ReportSummary = z.infer<typeof ReportSummarySchema>;

/**
 * The daily report of a day: the 24 hours before that day's `report.dailyAt`, local time (23 or
 * 25 across a daylight saving change). The same object is the JSON file, drives the HTML file,
 * `portent report` and the window's Report view.
 */
export const DailyReportSchema = z.object({
  day: reportDay,
  from: time,
  to: time,
  builtAt: time,
  host: z.string(),
  version: z.string(),
  summary: ReportSummarySchema,
  incidents: z.array(z.object({ id, startedAt: time, endedAt: time, status: IncidentStatusSchema, kind: IncidentKindSchema, sentence: z.string() })),
  /** Ports first seen occupied in the period, ever, with who held them first. */
  newPorts: z.array(z.object({ proto, port: portNumber, firstSeenAt: time, pid: z.number().int().nullable(), ...owner })),
  /** Programs that held a listening socket for the first time, and their ports. */
  newListeningProcesses: z.array(z.object({ ...owner, firstSeenAt: time, ports: z.array(z.string()) })),
  /** Programs that opened a connection for the first time, and to what (the first few). */
  newTalkers: z.array(
    z.object({ ...owner, firstSeenAt: time, endpoints: z.array(z.object({ proto, address: z.string(), port: portNumber, name: z.string().nullable() })), moreEndpoints: count }),
  ),
  /** Remote ends this machine talked with for the first time ever. */
  newEndpoints: count,
  /** By bytes captured, then by remote ends; the top ten. */
  busiestProcesses: z.array(z.object({ ...owner, bytesOut: bytes, bytesIn: bytes, endpoints: count })),
  busiestEndpoints: z.array(z.object({ proto: z.string(), address: z.string(), port: portNumber.nullable(), name: z.string().nullable(), bytesOut: bytes, bytesIn: bytes, processes: z.array(z.string()) })),
  /** One bucket per hour of the period, oldest first, for the charts. */
  hours: z.array(z.object({ at: time, rounds: count, bytes, incidents: count })),
  capture: z.object({
    /** Successful rounds, and how many of them had capture on. */
    rounds: count,
    roundsCaptured: count,
    /** Time the monitor recorded nothing (stopped, paused, asleep, failing), and the stretches. */
    monitorOffMs: count,
    gaps: z.array(RecordingGapSchema),
    /** Time rounds were recorded with capture off or failing (a round stands for its minute). */
    captureOffMs: count,
    /** Why capture was off, most frequent first. */
    offReasons: z.array(z.object({ message: z.string(), rounds: count })),
    packetsSeen: count,
    /** Null when the capture library could not read them. */
    kernelDrops: count.nullable(),
  }),
  model: z.object({
    state: z.enum(['none', 'learning', 'ready']),
    backend: z.string().nullable(),
    version: z.number().int().nullable(),
    threshold: z.number().nullable(),
    roundsSeen: count,
    roundsNeeded: count,
    /** Models saved in the period (each refit saves one), and detections run and failed. */
    refits: count,
    detections: count,
    failedDetections: count,
  }),
  database: z.object({
    bytes,
    cleanups: z.array(
      z.object({
        at: time,
        status: z.enum(['running', 'ok', 'failed', 'cancelled']),
        removed: z.object({ roundPorts: count, connections: count, packets: count, flows: count, trafficWindows: count, reportFiles: count, forCap: count }),
        bytesBefore: bytes.nullable(),
        bytesAfter: bytes.nullable(),
      }),
    ),
  }),
});
export type DailyReport = z.infer<typeof DailyReportSchema>;

/** A report built and kept, for the list of reports. */
export const ReportEntrySchema = z.object({
  day: reportDay,
  from: time,
  to: time,
  builtAt: time,
  trigger: z.enum(['schedule', 'catch-up', 'manual']),
  summary: ReportSummarySchema,
  mail: z.object({ status: z.enum(['off', 'pending', 'sent']), attempts: count, error: z.string().nullable() }),
});
export type ReportEntry = z.infer<typeof ReportEntrySchema>;

interface MethodSpec {
  args: z.ZodTuple;
  result: z.ZodType;
}

// `satisfies` makes the compiler reject a method missing here or one that methods.ts does not list.
export const contract = {
  getStatus: { args: z.tuple([]), result: StatusSchema },
  listScores: {
    args: z.tuple([z.object({ from: time, to: time, maxPoints: z.number().int().min(10).max(5000) }).refine((r) => r.to > r.from, { error: 'to must be after from' })]),
    result: z.array(ScorePointSchema),
  },
  listIncidents: {
    args: z.tuple([z.object({ limit: z.number().int().min(1).max(1000), beforeId: id.optional(), unseenOnly: z.boolean().optional() })]),
    result: z.array(IncidentSummarySchema),
  },
  getIncident: { args: z.tuple([id]), result: IncidentDetailSchema },
  /** seen, expected (feeds the next refit, not alerted again) or dismissed. */
  setIncidentStatus: { args: z.tuple([id, z.enum(['seen', 'expected', 'dismissed'])]), result: IncidentSummarySchema },
  portTimeline: {
    args: z.tuple([z.object({ from: time, to: time, buckets: z.number().int().min(1).max(2000), maxPorts: z.number().int().min(1).max(2000).optional() }).refine((r) => r.to > r.from, { error: 'to must be after from' })]),
    result: TimelineSchema,
  },
  portHistory: {
    args: z.tuple([z.object({ proto, port: portNumber, from: time, to: time, buckets: z.number().int().min(1).max(2000) }).refine((r) => r.to > r.from, { error: 'to must be after from' })]),
    result: PortHistorySchema,
  },
  listConnections: {
    args: z.tuple([
      z
        .object({ from: time, to: time, process: z.string().min(1).max(256).optional(), host: z.string().min(1).max(256).optional(), limit: z.number().int().min(1).max(5000).optional() })
        .refine((r) => r.to > r.from, { error: 'to must be after from' }),
    ]),
    result: ConnectionsSchema,
  },
  listDetectionRuns: { args: z.tuple([z.object({ limit: z.number().int().min(1).max(1000) })]), result: z.array(DetectionRunSchema) },
  listModels: { args: z.tuple([z.object({ limit: z.number().int().min(1).max(100) })]), result: z.array(ModelVersionSchema) },
  /** Runs the detection job now; resolves when it ends, or at once with the reason it cannot start. */
  detectNow: { args: z.tuple([]), result: DetectNowResultSchema },
  getSettings: { args: z.tuple([]), result: SettingsViewSchema },
  /** The value is checked against the shared settings schema; a rejection keeps the old value. */
  setSetting: { args: z.tuple([z.string().max(100), z.unknown()]), result: SetSettingResultSchema },
  setPaused: { args: z.tuple([z.boolean()]), result: StatusSchema },
  /** A day's report (absent: the newest period that has ended); the kept one when it was built, else built now from the database. */
  getReport: { args: z.tuple([z.strictObject({ day: reportDay.optional() })]), result: DailyReportSchema },
  /** Reports built, newest first. */
  listReports: { args: z.tuple([z.object({ limit: z.number().int().min(1).max(1000) })]), result: z.array(ReportEntrySchema) },
  /**
   * Stops one of an incident's processes (SIGTERM, then SIGKILL after the grace period), only if
   * it is still the process the incident recorded and the monitor may signal it; the outcome is
   * recorded on the incident and returned (a refusal too, with why).
   */
  stopIncidentProcess: { args: z.tuple([id, z.number().int().positive()]), result: IncidentActionSchema },
  /** Shows an incident process's executable in the file manager (the desktop app only; elsewhere says why not). */
  revealExecutable: {
    args: z.tuple([id, z.number().int().positive()]),
    result: z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), path: z.string() }), z.object({ ok: z.literal(false), reason: z.string() })]),
  },
  /** Rules that a port or program is expected from now on, oldest first. */
  listAllowRules: { args: z.tuple([]), result: z.array(AllowRuleSchema) },
  addAllowRule: { args: z.tuple([AllowRuleInputSchema]), result: AllowRuleSchema },
  /** Deletes a rule; detection alerts on what it allowed again from the next round on. */
  removeAllowRule: { args: z.tuple([id]), result: AllowRuleSchema },
  /** Silences notifications until the given time; null ends a snooze. */
  snoozeAlerts: { args: z.tuple([time.nullable()]), result: StatusSchema },
} as const satisfies Record<MethodName, MethodSpec>;

export type Contract = typeof contract;
export type MethodArgs<M extends MethodName> = z.infer<Contract[M]['args']>;
export type MethodResult<M extends MethodName> = z.infer<Contract[M]['result']>;

/** What the engine implements: one handler per method, given arguments already validated. */
export type Handlers = { [M in MethodName]: (...args: MethodArgs<M>) => MethodResult<M> | Promise<MethodResult<M>> };

/** What the renderer sees: one async function per contract method. */
export type PortentApi = { [M in MethodName]: (...args: MethodArgs<M>) => Promise<MethodResult<M>> };

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === 'string' && Object.hasOwn(contract, value);
}

/** A call refused by the contract itself (unknown method, bad arguments): the caller's fault. */
export class ContractError extends Error {
  constructor(
    message: string,
    readonly kind: 'unknown-method' | 'invalid-arguments',
  ) {
    super(message);
    this.name = 'ContractError';
  }
}

/** Validates untrusted arguments for a method; throws a readable error naming the method. */
export function parseArgs<M extends MethodName>(method: M, args: unknown): MethodArgs<M> {
  const parsed = contract[method].args.safeParse(args);
  if (!parsed.success) {
    throw new ContractError(`Invalid arguments for ${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`, 'invalid-arguments');
  }
  return parsed.data as MethodArgs<M>;
}

/**
 * Runs one call arriving from outside the engine (IPC or HTTP): an unknown method or arguments
 * that do not match the contract are refused before any handler runs.
 */
export async function invokeMethod(handlers: Handlers, method: unknown, args: unknown): Promise<unknown> {
  if (!isMethodName(method)) throw new ContractError(`Unknown method ${typeof method === 'string' ? method.slice(0, 100) : typeof method}`, 'unknown-method');
  const parsed = parseArgs(method, args) as unknown[];
  const handler = handlers[method] as (...a: unknown[]) => unknown;
  return handler(...parsed);
}

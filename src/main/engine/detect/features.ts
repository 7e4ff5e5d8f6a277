import type { Db } from '../store/database';

/**
 * Turns stored rounds into the model's input. A round is kept sparse (the few occupied
 * (port, channel) cells) until a batch is needed; a dense round is 131,072 floats, half a
 * megabyte, and a week of them would not fit in the memory budget.
 */

/** Channel 0: TCP listeners. Channel 1: bound UDP sockets outside the ephemeral range. */
export const CHANNELS = 2;
export const FULL_PORTS = 65_536;
/** sin/cos hour of day, sin/cos day of week, ephemeral UDP count. */
export const CONTEXT_SIZE = 5;

export interface FeatureOptions {
  /** Port axis length; 65,536 in real use, smaller only in unit tests. Ports beyond it are ignored. */
  ports?: number;
  /**
   * Inclusive UDP port range treated as ephemeral (client sockets the kernel numbered at random).
   * Default: the union of Linux's 32768–60999 and the IANA/macOS 49152–65535.
   */
  ephemeralUdp?: readonly [number, number];
  /**
   * Processes known to bind kernel-numbered UDP ports as clients (store.clientUdpOwners). When
   * given, a UDP socket in the ephemeral range is counted only if its owner is one of these or
   * cannot be seen; any other program's is placed as a cell like every other port, so a backdoor
   * bound on 45000/udp is seen. Without it every such socket is counted.
   */
  clientUdpOwners?: ReadonlySet<number>;
  /** Rounds fetched per SQL query. */
  batchSize?: number;
}

export const DEFAULT_EPHEMERAL_UDP: readonly [number, number] = [32_768, 65_535];

/**
 * Distinct high UDP ports a program must have bound in learnable rounds to count as a UDP client
 * (a browser, a resolver), whose kernel-numbered ports are counted rather than placed.
 */
export const CLIENT_UDP_PORTS = 3;

export interface RoundFeatures {
  roundId: number;
  startedAt: number;
  /** Flat indices `port * CHANNELS + channel` of the occupied cells, ascending. */
  active: Int32Array;
  /** UDP sockets in the ephemeral range, kept as a count instead of bits. */
  ephemeralUdp: number;
  context: Float32Array;
}

/** Saturates at a few hundred sockets: beyond that "many" is all the model needs to know. */
const EPHEMERAL_SCALE = Math.log1p(256);

export function timeContext(startedAt: number, ephemeralUdp: number): Float32Array {
  // Local time: people's days (logins, working hours, nightly jobs) follow the wall clock.
  const d = new Date(startedAt);
  const hour = (d.getHours() + d.getMinutes() / 60) / 24;
  const day = (d.getDay() + hour) / 7;
  return Float32Array.from([
    Math.sin(2 * Math.PI * hour),
    Math.cos(2 * Math.PI * hour),
    Math.sin(2 * Math.PI * day),
    Math.cos(2 * Math.PI * day),
    Math.min(1, Math.log1p(ephemeralUdp) / EPHEMERAL_SCALE),
  ]);
}

/** Four harmonics of the local time of day (sin/cos each) and a weekend flag. */
export const TARGET_TIME_SIZE = 9;
const HARMONICS = 4;

/**
 * The decoder's view of *when* the target round is, written into `out` at `offset`. Four
 * harmonics let each port learn an hour-of-day profile with bumps down to ~3 hours wide (a
 * backup agent open around 02:00 and never at 22:00), which one sin/cos pair cannot draw; a
 * one-hot hour (24 weights per port) was tried and cost 3.3 M more decoder weights, which Adam
 * triples in memory, and learned more slowly because each hour's weight only moves on rounds of
 * that hour.
 */
export function targetTime(startedAt: number, out: Float32Array, offset = 0): void {
  const d = new Date(startedAt);
  const angle = (2 * Math.PI * (d.getHours() + d.getMinutes() / 60)) / 24;
  for (let k = 1; k <= HARMONICS; k++) {
    out[offset + 2 * (k - 1)] = Math.sin(k * angle);
    out[offset + 2 * (k - 1) + 1] = Math.cos(k * angle);
  }
  const day = d.getDay();
  out[offset + 2 * HARMONICS] = day === 0 || day === 6 ? 1 : 0;
}

/**
 * Reads the features of the given rounds (ids of existing rounds), in the order given. One
 * query per batch: the sockets of all the batch's rounds joined to their ports, one row per round
 * with its cells as a list of numbers (port · 2 + channel) and the UDP sockets in the ephemeral
 * range, which may be a client's, apart (port and owner). At 2,000 listeners a round, a row per
 * socket took 1.9 s for 500 rounds, most of it handing 500,000 rows over; a row per round 1.2 s.
 */
export function readFeatures(db: Db, rounds: readonly { id: number; startedAt: number }[], options: FeatureOptions = {}): RoundFeatures[] {
  const ports = options.ports ?? FULL_PORTS;
  const [ephLo, ephHi] = options.ephemeralUdp ?? DEFAULT_EPHEMERAL_UDP;
  const batchSize = options.batchSize ?? 500;
  const clients = options.clientUdpOwners;
  const query = db
    .prepare<{ lo: number; hi: number; ports: number; ids: string }, [number, string | null, string | null]>(
      `SELECT round_id,
              group_concat(CASE WHEN NOT (proto = 'udp' AND port BETWEEN @lo AND @hi) AND port < @ports THEN port * ${CHANNELS} + (proto = 'udp') END),
              group_concat(CASE WHEN proto = 'udp' AND port BETWEEN @lo AND @hi THEN port || ' ' || ifnull(owner, '') END)
       FROM (SELECT DISTINCT rp.round_id, p.proto, p.port,
                    CASE WHEN pr.name IS NOT NULL OR pr.exe IS NOT NULL THEN rp.process_id END AS owner
             FROM round_sockets rp JOIN ports p ON p.id = rp.port_id LEFT JOIN processes pr ON pr.id = rp.process_id
             WHERE rp.round_id IN (SELECT value FROM json_each(@ids)))
       GROUP BY round_id`,
    )
    .raw();
  const out: RoundFeatures[] = [];
  for (let start = 0; start < rounds.length; start += batchSize) {
    const batch = rounds.slice(start, start + batchSize);
    const cells = new Map<number, Set<number>>(batch.map((r) => [r.id, new Set()]));
    // Each ephemeral (round, port) once, however many sockets or owners it has.
    const ephemeral = new Map<number, Set<number>>();
    for (const [roundId, listed, udpEphemeral] of query.iterate({ lo: ephLo, hi: ephHi, ports, ids: JSON.stringify(batch.map((r) => r.id)) })) {
      const set = cells.get(roundId);
      if (!set) continue;
      if (listed) for (const cell of listed.split(',')) set.add(Number(cell));
      if (!udpEphemeral) continue;
      for (const entry of udpEphemeral.split(',')) {
        const [portText, ownerText] = entry.split(' ');
        const port = Number(portText);
        const owner = ownerText ? Number(ownerText) : null;
        // A known program's UDP port that is not a client's is a service: a cell like any other.
        if (!clients || owner === null || clients.has(owner)) {
          const seen = ephemeral.get(roundId) ?? new Set<number>();
          seen.add(port);
          ephemeral.set(roundId, seen);
        } else if (port < ports) set.add(port * CHANNELS + 1);
      }
    }
    for (const r of batch) {
      const active = Int32Array.from(cells.get(r.id) ?? []).sort();
      const eph = ephemeral.get(r.id)?.size ?? 0;
      out.push({ roundId: r.id, startedAt: r.startedAt, active, ephemeralUdp: eph, context: timeContext(r.startedAt, eph) });
    }
  }
  return out;
}

/** Writes rounds densely into `out` ([rounds.length, ports, CHANNELS]), zeroing it first. */
export function fillDense(rounds: readonly RoundFeatures[], ports: number, out = new Float32Array(rounds.length * ports * CHANNELS)): Float32Array {
  const stride = ports * CHANNELS;
  if (out.length < rounds.length * stride) throw new Error(`fillDense: buffer of ${out.length} for ${rounds.length} rounds of ${stride}`);
  out.fill(0, 0, rounds.length * stride);
  rounds.forEach((r, i) => {
    for (const cell of r.active) out[i * stride + cell] = 1;
  });
  return out;
}

/** Convenience for callers that want the whole [rounds, ports, 2] tensor data plus contexts. */
export function buildInput(db: Db, rounds: readonly { id: number; startedAt: number }[], options: FeatureOptions = {}): { occupancy: Float32Array; context: Float32Array; features: RoundFeatures[] } {
  const ports = options.ports ?? FULL_PORTS;
  const features = readFeatures(db, rounds, options);
  const context = new Float32Array(features.length * CONTEXT_SIZE);
  features.forEach((f, i) => context.set(f.context, i * CONTEXT_SIZE));
  return { occupancy: fillDense(features, ports), context, features };
}

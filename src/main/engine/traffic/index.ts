/** The traffic model's input: features per (process, window of rounds) read from the database. */
export { readTrafficWindows, iterateTrafficWindows, DEFAULT_HISTORY_MS, type TrafficWindow, type TrafficWindowOptions } from './trafficWindows';
export type { DnsNameFact, ProbeFact, TrafficEndpoint, TrafficRow } from './trafficRow';
export { TRAFFIC_FEATURES, TRAFFIC_FEATURE_COUNT, FEATURE_INDEX, scaleTraffic, type RawTraffic, type TrafficFeature } from './featureVector';
export { periodicity, type Periodicity } from './periodicity';

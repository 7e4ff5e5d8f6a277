import { describe, expect, it } from 'vitest';
import { endpointAddress, featureLabel, incidentKindTag, novelty, periodLabel, trafficKindLabel } from '../../src/renderer/src/trafficLabels';

describe('words for the traffic model', () => {
  it('names the features that drive incidents, the habits after them, and falls back to spaced names', () => {
    expect(featureLabel('new_for_process_share')).toBe('share of hosts new to this program');
    expect(featureLabel('periodicity')).toBe('regular beat (beaconing)');
    expect(featureLabel('bytes_out')).toBe('bytes sent');
    expect(featureLabel('dns_entropy_max')).toBe('randomness of DNS names');
    expect(featureLabel('closed_port_attempts')).toBe('attempts on closed ports');
    expect(featureLabel('rare_remote_port_share')).toBe('connections on ports rare here');
    expect(featureLabel('seen_windows')).toBe('how long this program has been seen');
    expect(featureLabel('usual_bytes_out')).toBe('its usual bytes sent');
    expect(featureLabel('usual_dns_lookups')).toBe('its usual DNS lookups');
    expect(featureLabel('usual_periodicity')).toBe('its usual regularity');
    expect(featureLabel('some_new_feature')).toBe('some new feature');
  });

  it('labels kinds, and no tag for a port incident', () => {
    expect(incidentKindTag('traffic')).toBe('traffic');
    expect(incidentKindTag('both')).toBe('ports and traffic');
    expect(incidentKindTag('ports')).toBeNull();
    expect(trafficKindLabel('beacon')).toBe('beaconing');
    expect(trafficKindLabel(null)).toBe('unusual traffic');
  });

  it('writes remote ends, novelty, beats and model values', () => {
    expect(endpointAddress({ address: '203.0.113.7', port: 4444 })).toBe('203.0.113.7:4444');
    expect(endpointAddress({ address: '2001:db8::1', port: 443 })).toBe('[2001:db8::1]:443');
    expect(endpointAddress({ address: '198.51.100.4', port: 0 })).toBe('198.51.100.4');
    expect(endpointAddress({ address: '', port: 53 })).toBe('resolver not seen, port 53');
    expect(novelty({ newForProcess: true, newAnywhere: true })).toBe('new for every program');
    expect(novelty({ newForProcess: true, newAnywhere: false })).toBe('new for this program');
    expect(novelty({ newForProcess: false, newAnywhere: false })).toBe('seen before');
    expect(periodLabel(2500)).toBe('every 2.5 s');
    expect(periodLabel(5000)).toBe('every 5 s');
    expect(periodLabel(60_000)).toBe('every 60 s');
    expect(periodLabel(300_000)).toBe('every 5 min');
  });
});

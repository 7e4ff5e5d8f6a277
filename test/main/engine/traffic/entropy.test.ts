import { describe, expect, it } from 'vitest';
import { characterBits, dnsNameShape, shannonBits } from '../../../../src/main/engine/traffic/entropy';

describe('entropy', () => {
  it('of counts: 0 for one value, log2(n) for n values used evenly', () => {
    expect(shannonBits([])).toBe(0);
    expect(shannonBits([7])).toBe(0);
    expect(shannonBits([3, 3, 3, 3])).toBeCloseTo(2);
    expect(shannonBits([2, 1])).toBeCloseTo(0.9183, 4);
    expect(shannonBits([5, 0])).toBe(0);
  });

  it('of characters', () => {
    expect(characterBits('www')).toBe(0);
    expect(characterBits('abab')).toBeCloseTo(1);
    expect(characterBits('abcdefgh')).toBeCloseTo(3);
  });

  it('of a DNS name: the part left of the last two labels, and the longest label', () => {
    expect(dnsNameShape('WWW.Example.COM.')).toEqual({ name: 'www.example.com', longestLabel: 7, entropyBits: 0 });
    expect(dnsNameShape('example.com')).toMatchObject({ longestLabel: 7, entropyBits: characterBits('example') });
    const tunnel = dnsNameShape('mzxw6ytboi2dqnbzgq4tkmrtgezdgnbv.t.evil.example');
    expect(tunnel.longestLabel).toBe(32);
    expect(tunnel.entropyBits).toBeCloseTo(characterBits('mzxw6ytboi2dqnbzgq4tkmrtgezdgnbvt'));
    expect(tunnel.entropyBits).toBeGreaterThan(3.5);
  });
});

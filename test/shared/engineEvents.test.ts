import { describe, expect, it } from 'vitest';
import { isEngineEvent } from '../../src/shared/methods';

describe('isEngineEvent', () => {
  it('passes on the two events the engine sends and nothing else', () => {
    expect(isEngineEvent({ type: 'changed' })).toBe(true);
    expect(isEngineEvent({ type: 'incidents', ids: [1, 2] })).toBe(true);
    for (const bad of [null, undefined, 'changed', {}, { type: 'other' }, { type: 'incidents' }, { type: 'incidents', ids: ['1'] }, { type: 'incidents', ids: [1.5] }]) {
      expect(isEngineEvent(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

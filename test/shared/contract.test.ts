import { describe, expect, it } from 'vitest';
import { contract, isMethodName, METHOD_NAMES, parseArgs, StatusSchema } from '../../src/shared/contract';

describe('shared contract', () => {
  it('lists exactly the methods it defines', () => {
    expect([...METHOD_NAMES].sort()).toEqual(Object.keys(contract).sort());
  });

  it('recognises method names and refuses inherited or unknown ones', () => {
    expect(isMethodName('getStatus')).toBe(true);
    expect(isMethodName('toString')).toBe(false);
    expect(isMethodName('__proto__')).toBe(false);
    expect(isMethodName(42)).toBe(false);
  });

  it('accepts well-formed arguments and rejects extra or hostile ones with the method named', () => {
    expect(parseArgs('getStatus', [])).toEqual([]);
    expect(() => parseArgs('getStatus', ['extra'])).toThrow(/Invalid arguments for getStatus/);
    expect(() => parseArgs('getStatus', { length: 0 })).toThrow(/Invalid arguments for getStatus/);
    expect(() => parseArgs('getStatus', null)).toThrow(/Invalid arguments for getStatus/);
  });

  it('describes a status', () => {
    const ok = { version: '0.1.0', monitoring: true, monitoringSince: 1, database: '/x.db' };
    expect(StatusSchema.parse(ok)).toEqual(ok);
    expect(StatusSchema.safeParse({ ...ok, monitoringSince: 'yesterday' }).success).toBe(false);
  });
});

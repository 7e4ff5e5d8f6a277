import { describe, expect, it } from 'vitest';
import { checkAllowRule, describeRule, namesProgramOnly, ruleAllows } from '../../src/shared/allowRule';

const rule = (r: Partial<Parameters<typeof ruleAllows>[0]>) => ({ proto: null, port: null, process: null, exe: null, user: null, ...r });
const nc = { proto: 'tcp' as const, port: 4444, process: 'nc', exe: '/usr/bin/nc', user: 'alice' };

describe('allow rules', () => {
  it('matches every part a rule names, and nothing else', () => {
    expect(ruleAllows(rule({ proto: 'tcp', port: 4444 }), nc)).toBe(true);
    expect(ruleAllows(rule({ proto: 'udp', port: 4444 }), nc)).toBe(false);
    expect(ruleAllows(rule({ proto: 'tcp', port: 4445 }), nc)).toBe(false);
    expect(ruleAllows(rule({ exe: '/usr/bin/nc' }), nc)).toBe(true);
    expect(ruleAllows(rule({ exe: '/usr/bin/nc', user: 'alice' }), nc)).toBe(true);
    expect(ruleAllows(rule({ exe: '/usr/bin/nc', user: 'bob' }), nc)).toBe(false);
    expect(ruleAllows(rule({ process: 'nc', proto: 'tcp', port: 4444 }), nc)).toBe(true);
    expect(ruleAllows(rule({ process: 'nc', proto: 'tcp', port: 80 }), nc)).toBe(false);
  });

  it('never takes an unknown for what a rule names (an unreadable executable or user)', () => {
    expect(ruleAllows(rule({ exe: '/usr/bin/nc' }), { ...nc, exe: null })).toBe(false);
    expect(ruleAllows(rule({ exe: '/usr/bin/nc', user: 'alice' }), { ...nc, user: null })).toBe(false);
    expect(ruleAllows(rule({ proto: 'tcp', port: 4444 }), { process: null, exe: null, user: null })).toBe(false);
  });

  it('refuses bad rules with a message in words', () => {
    expect(checkAllowRule({})).toEqual({ ok: false, error: 'a rule names a port, a program (its executable or process name), or both' });
    expect(checkAllowRule({ port: 80 })).toMatchObject({ ok: false, error: expect.stringContaining('a port needs its protocol') });
    expect(checkAllowRule({ proto: 'tcp', port: 70000 })).toMatchObject({ ok: false, error: expect.stringContaining('from 0 to 65535') });
    expect(checkAllowRule({ exe: 'nc' })).toMatchObject({ ok: false, error: 'the executable must be an absolute path' });
    expect(checkAllowRule({ user: 'root' })).toMatchObject({ ok: false, error: expect.stringContaining('name the program too') });
    expect(checkAllowRule({ exe: '/bin/sh', extra: 1 })).toMatchObject({ ok: false });
    expect(checkAllowRule({ process: '   ' })).toMatchObject({ ok: false, error: expect.stringContaining('must not be empty') });
    expect(checkAllowRule({ exe: '/usr/bin/nc', user: 'alice' })).toEqual({ ok: true, rule: { proto: null, port: null, process: null, exe: '/usr/bin/nc', user: 'alice', fromIncidentId: null } });
  });

  it('says a rule in words, and which rules the traffic model honours', () => {
    expect(describeRule(rule({ proto: 'udp', port: 53 }))).toBe('port 53/udp');
    expect(describeRule(rule({ exe: '/usr/bin/nc', user: 'alice' }))).toBe('/usr/bin/nc as alice');
    expect(describeRule(rule({ process: 'nginx', proto: 'tcp', port: 443 }))).toBe('nginx on port 443/tcp');
    expect(namesProgramOnly(rule({ exe: '/usr/bin/nc' }))).toBe(true);
    expect(namesProgramOnly(rule({ exe: '/usr/bin/nc', proto: 'tcp', port: 1 }))).toBe(false);
    expect(namesProgramOnly(rule({ proto: 'tcp', port: 1 }))).toBe(false);
  });
});

import dgram from 'node:dgram';
import type net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitOf, runCli, startCli, waitForOutput } from '../../support/cli';
import { captureAllowed } from '../engine/collect/capture/support/privilege';
import { answerFor, echoOnce, listenTcpEcho, queryUdp, startDnsServer, type DnsServer } from '../engine/collect/capture/support/servers';

const LOOPBACK = process.platform === 'darwin' ? 'lo0' : 'lo';
const allowed = captureAllowed();
// Ethernet + IPv4 + UDP headers on Linux loopback, whose link type is Ethernet.
const UDP_FRAME = 14 + 20 + 8;
const TABLE = new Map([['cli.portent.test', '198.51.100.7']]);

describe('portent interfaces', () => {
  it('lists the capture interfaces, loopback included, and marks the default one', () => {
    const r = runCli(['interfaces', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { default: { name: string; source: string } | null; interfaces: { name: string; loopback: boolean; default: boolean }[] };
    expect(out.interfaces.find((i) => i.name === LOOPBACK)).toMatchObject({ loopback: true, default: false });
    const marked = out.interfaces.filter((i) => i.default).map((i) => i.name);
    expect(marked).toEqual(out.default ? [out.default.name] : []);
    const table = runCli(['interfaces']);
    expect(table.stdout).toMatch(/^NAME\s+DEFAULT/);
    expect(table.stdout).toMatch(new RegExp(`\\n${LOOPBACK}\\s`));
  });
});

describe('portent capture', () => {
  it('refuses a bad duration with a usage error', () => {
    for (const bad of ['0', '--seconds=-1', 'ten']) {
      const r = runCli(['capture', '--iface', LOOPBACK, ...(bad.startsWith('--') ? [bad] : ['--seconds', bad]), '--json']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--seconds must be a number of seconds above 0/);
    }
    expect(runCli(['capture', '--iface', LOOPBACK]).stderr).toMatch(/--seconds N is required/);
  });

  it('names the available interfaces when asked for one that does not exist', () => {
    const r = runCli(['capture', '--iface', 'nosuch0', '--seconds', '1', '--json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`unknown interface "nosuch0"; available: .*\\b${LOOPBACK}\\b`));
    expect(r.stdout).toBe('');
  });

  describe.skipIf(!allowed.ok)(`on ${LOOPBACK} with real traffic (${allowed.reason || 'privileged'})`, () => {
    let echo: net.Server;
    let dns: DnsServer;
    let sink: dgram.Socket;

    beforeAll(async () => {
      echo = await listenTcpEcho('127.0.0.1');
      // Other test files run a DNS responder on 127.0.0.1/.155 at the same time.
      dns = await startDnsServer(['127.0.0.161', '127.0.0.162'], TABLE);
      sink = dgram.createSocket('udp4');
      await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    });

    afterAll(async () => {
      echo?.close();
      sink?.close();
      await dns?.close();
    });

    it('counts packets, bytes, flows and DNS names that match what the test sent', async () => {
      const echoPort = (echo.address() as net.AddressInfo).port;
      const sinkPort = sink.address().port;
      // TCP handshakes only: how many ACKs follow depends on the kernel's timing, SYNs do not.
      const filter = `(udp port ${sinkPort}) or (udp port 53 and host ${dns.host}) or (tcp port ${echoPort} and tcp[tcpflags] & tcp-syn != 0)`;
      const child = startCli(['capture', '--iface', LOOPBACK, '--seconds', '3', '--filter', filter, '--json']);
      const exit = exitOf(child);
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      await waitForOutput(child.stderr, /capturing on/);

      const client = dgram.createSocket('udp4');
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      const payload = Buffer.alloc(100, 1);
      for (let i = 0; i < 25; i++) await new Promise<void>((r, j) => client.send(payload, sinkPort, '127.0.0.1', (e) => (e ? j(e) : r())));
      const names = ['cli.portent.test', 'missing.portent.test'];
      let dnsBytes = 0;
      for (const [i, name] of names.entries()) {
        const query = { type: 'query' as const, id: 100 + i, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A' as const, name }] };
        dnsBytes += 2 * UDP_FRAME + dnsPacket.encode(query).length + answerFor(query, TABLE).length;
        await queryUdp(client, dns.host, 100 + i, name);
      }
      client.close();
      const connections = 3;
      for (let i = 0; i < connections; i++) await echoOnce(echoPort, '127.0.0.1', `hello ${i}`);

      expect((await exit).code).toBe(0);
      const out = JSON.parse(stdout) as Record<string, unknown>;
      const synPackets = 2 * connections;
      expect(out).toMatchObject({
        iface: LOOPBACK,
        packets: 25 + 2 * names.length + synPackets,
        // One UDP flow to the sink; the DNS client's queries and the responder's answers; SYN and SYN-ACK per connection.
        flows: 1 + 2 + 2 * connections,
        dns: names,
        malformed: 0,
        dropped: 0,
      });
      // SYN and SYN-ACK sizes depend on the TCP options the kernel chose; the rest is exact.
      const synBytes = (out.bytes as number) - 25 * (UDP_FRAME + payload.length) - dnsBytes;
      expect(synBytes % 2).toBe(0);
      expect(synBytes).toBeGreaterThanOrEqual(synPackets * (14 + 20 + 20));
      expect(synBytes).toBeLessThanOrEqual(synPackets * (14 + 20 + 60));
    });
  });
});

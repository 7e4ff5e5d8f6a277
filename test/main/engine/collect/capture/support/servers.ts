/**
 * Small real servers on loopback for the capture tests: a TCP echo server and a DNS responder
 * (UDP and TCP) that answers A queries from a fixed table and NXDOMAIN otherwise.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';

export function listenTcpEcho(host: string): Promise<net.Server> {
  const server = net.createServer((s) => s.pipe(s));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

export function answerFor(query: dnsPacket.Packet, table: ReadonlyMap<string, string>): Buffer {
  const q = query.questions?.[0];
  const address = q ? table.get(q.name) : undefined;
  return dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.RECURSION_AVAILABLE | (address ? 0 : 3),
    questions: query.questions ?? [],
    answers: address && q ? [{ type: 'A', name: q.name, ttl: 30, data: address }] : [],
  });
}

export interface DnsServer {
  host: string;
  udp: dgram.Socket;
  tcp: net.Server;
  close(): Promise<void>;
}

/** Binds port 53 on `hosts[0]`, or the next host if that one is taken. */
export async function startDnsServer(hosts: string[], table: ReadonlyMap<string, string>): Promise<DnsServer> {
  let lastError: unknown;
  for (const host of hosts) {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => udp.send(answerFor(dnsPacket.decode(msg), table), rinfo.port, rinfo.address));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(53, host, () => resolve());
      });
    } catch (e) {
      lastError = e;
      udp.close();
      continue;
    }
    const tcp = net.createServer((sock) => {
      let pending = Buffer.alloc(0);
      sock.on('data', (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const len = pending.readUInt16BE(0);
          const reply = answerFor(dnsPacket.decode(pending.subarray(2, 2 + len)), table);
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          sock.write(framed);
          pending = pending.subarray(2 + len);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(53, host, () => resolve());
    });
    return {
      host,
      udp,
      tcp,
      close: () =>
        new Promise<void>((resolve) => {
          udp.close();
          tcp.close(() => resolve());
        }),
    };
  }
  throw lastError;
}

/** One query over UDP from `client`; resolves with the decoded response. */
export function queryUdp(client: dgram.Socket, server: string, id: number, name: string): Promise<dnsPacket.DecodedPacket> {
  const msg = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
  return new Promise((resolve, reject) => {
    const onMessage = (reply: Buffer): void => {
      const decoded = dnsPacket.decode(reply);
      if (decoded.id !== id) return;
      client.off('message', onMessage);
      resolve(decoded);
    };
    client.on('message', onMessage);
    client.send(msg, 53, server, (err) => err && reject(err));
  });
}

/** One query over TCP; resolves with the decoded response and the client's local port. */
export function queryTcp(server: string, id: number, name: string): Promise<{ reply: dnsPacket.Packet; localPort: number }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(53, server, () => sock.write(dnsPacket.streamEncode({ type: 'query', id, questions: [{ type: 'A', name }] })));
    let got = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        const localPort = sock.localPort ?? 0;
        sock.end();
        sock.once('close', () => resolve({ reply: dnsPacket.streamDecode(got), localPort }));
      }
    });
    sock.on('error', reject);
  });
}

/** Connects, sends `text`, waits for the echo, closes; resolves with the client's local port. */
export function echoOnce(port: number, host: string, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host, () => sock.write(text));
    let got = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      got += d;
      if (got.length >= text.length) {
        const localPort = sock.localPort ?? 0;
        sock.end();
        sock.once('close', () => resolve(localPort));
      }
    });
    sock.on('error', reject);
  });
}

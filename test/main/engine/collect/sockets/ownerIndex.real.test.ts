/**
 * The socket owner index against the real /proc: owners remembered between scans must follow
 * sockets that move from one process to another, and new sockets must be found whether their
 * process already held sockets or not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketOwnerIndex } from '../../../../../src/main/engine/collect/sockets/linuxSockets';

/** The socket inode behind one of this process's fds. */
function inodeOf(fd: number): number {
  const link = readlinkSync(`/proc/self/fd/${fd}`);
  expect(link).toMatch(/^socket:\[\d+\]$/);
  return Number(link.slice(8, -1));
}

/** The fd numbers of this process that are sockets. */
function socketFds(): Set<string> {
  return new Set(readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }));
}

const children: ChildProcess[] = [];
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
  for (const close of closers.splice(0)) close();
});

async function connectedPair(): Promise<{ client: net.Socket; accepted: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  const a = await accepted;
  closers.push(() => {
    client.destroy();
    a.destroy();
    server.close();
  });
  return { client, accepted: a };
}

describe.runIf(process.platform === 'linux')('SocketOwnerIndex on the real /proc', () => {
  it('keeps a socket under its holder across scans, and finds a new one of a process that already holds sockets', async () => {
    const index = new SocketOwnerIndex('/proc', 1000);
    const before = socketFds();
    const first = await connectedPair();
    const fds = [...socketFds()].filter((fd) => !before.has(fd)).map(Number);
    const inodes = new Set(fds.map(inodeOf));
    expect(index.resolve(inodes)).toEqual(new Map([...inodes].map((i) => [i, process.pid])));
    expect(index.resolve(inodes)).toEqual(new Map([...inodes].map((i) => [i, process.pid])));
    const known = socketFds();
    await connectedPair();
    const more = new Set([...inodes, ...[...socketFds()].filter((fd) => !known.has(fd)).map((fd) => inodeOf(Number(fd)))]);
    expect(more.size).toBe(inodes.size + 3);
    expect(index.resolve(more)).toEqual(new Map([...more].map((i) => [i, process.pid])));
    first.client.destroy();
  });

  it('follows a socket handed to another process once its first holder lets it go', async () => {
    const index = new SocketOwnerIndex('/proc', 1000);
    const { client } = await connectedPair();
    const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
    const inode = inodeOf(fd);
    expect(index.resolve(new Set([inode]))).toEqual(new Map([[inode, process.pid]]));
    // The child gets the socket as its stdin and keeps it; then this process closes its copy.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: [fd, 'ignore', 'ignore'] });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    // While both hold it, the lower pid (this process) stays the owner.
    expect(index.resolve(new Set([inode]))).toEqual(new Map([[inode, process.pid]]));
    client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(index.resolve(new Set([inode]))).toEqual(new Map([[inode, child.pid]]));
  });

  it("finds a new socket in a process that held none before, by a full walk", async () => {
    const index = new SocketOwnerIndex('/proc', 1000);
    const { client } = await connectedPair();
    const mine = inodeOf((client as unknown as { _handle: { fd: number } })._handle.fd);
    expect(index.resolve(new Set([mine]))).toEqual(new Map([[mine, process.pid]]));
    const child = spawn(process.execPath, ['-e', `const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(require('fs').readlinkSync('/proc/self/fd/' + s._handle.fd)))`], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    const link = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(String(d).trim())));
    const theirs = Number(link.slice(8, -1));
    expect(index.resolve(new Set([mine, theirs]))).toEqual(new Map([[mine, process.pid], [theirs, child.pid]]));
  });
});

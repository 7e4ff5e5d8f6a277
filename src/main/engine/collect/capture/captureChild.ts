/**
 * Entry point of the capture process, started by CaptureProcess: a Node fork with an IPC
 * channel, an Electron utility process with its parent port, or, when the capture helper
 * captures, a worker thread of the engine (childLauncher.ts, threadLauncher). Packet capture
 * privileges (CAP_NET_RAW, /dev/bpf access) are needed by the helper, or by this process when it
 * opens the capture itself.
 */
import { isMainThread, parentPort as threadPort } from 'node:worker_threads';
import type { ChildMessage, ParentMessage } from './captureProtocol';
import { serveCapture, type Channel } from './captureService';

/** What Electron gives a utility process in place of process.send (absent under plain Node). */
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}
const parentPort = (process as { parentPort?: ParentPort }).parentPort;

function channel(): Channel {
  if (!isMainThread && threadPort) {
    const port = threadPort;
    return {
      send: (message: ChildMessage) => port.postMessage(message),
      onMessage: (listener) => port.on('message', (m) => listener(m as ParentMessage)),
      // The engine ends the thread when done (after the last message).
      onClose: () => undefined,
    };
  }
  if (parentPort) {
    return {
      send: (message: ChildMessage) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (e) => listener(e.data as ParentMessage)),
      // A utility process has no channel to close: the parent ends it when done.
      onClose: () => undefined,
    };
  }
  if (!process.send) throw new Error('captureChild must be started by CaptureProcess (it needs a message channel)');
  return {
    send: (message: ChildMessage) => process.send?.(message),
    onMessage: (listener) => process.on('message', (m) => listener(m as ParentMessage)),
    onClose: (listener) =>
      process.on('disconnect', () => {
        listener();
        process.exit(0);
      }),
  };
}

// Ctrl-C in a terminal signals the whole process group; the parent decides when capture stops,
// so that the last interval's report is still delivered. (A thread receives no signals.)
if (isMainThread) process.on('SIGINT', () => {});

serveCapture(channel());

/**
 * Entry point of the capture process, started by CaptureProcess: a Node fork with an IPC
 * channel, or an Electron utility process with its parent port. Packet
 * capture privileges (CAP_NET_RAW, /dev/bpf access) are needed by this process only.
 */
import type { ChildMessage, ParentMessage } from './captureProtocol';
import { serveCapture } from './captureService';

/** What Electron gives a utility process in place of process.send (absent under plain Node). */
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}
const parentPort = (process as { parentPort?: ParentPort }).parentPort;

if (!process.send && !parentPort) throw new Error('captureChild must be started by CaptureProcess (it needs a message channel)');

// Ctrl-C in a terminal signals the whole process group; the parent decides when capture stops,
// so that the last interval's report is still delivered.
process.on('SIGINT', () => {});

serveCapture(
  parentPort
    ? {
        send: (message: ChildMessage) => parentPort.postMessage(message),
        onMessage: (listener) => parentPort.on('message', (e) => listener(e.data as ParentMessage)),
        // A utility process has no channel to close: the parent ends it when done.
        onClose: () => undefined,
      }
    : {
        send: (message: ChildMessage) => process.send?.(message),
        onMessage: (listener) => process.on('message', (m) => listener(m as ParentMessage)),
        onClose: (listener) =>
          process.on('disconnect', () => {
            listener();
            process.exit(0);
          }),
      },
);

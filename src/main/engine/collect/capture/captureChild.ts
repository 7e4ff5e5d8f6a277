/**
 * Entry point of the capture process, started by CaptureProcess with an IPC channel. Packet
 * capture privileges (CAP_NET_RAW, /dev/bpf access) are needed by this process only.
 */
import type { ChildMessage, ParentMessage } from './captureProtocol';
import { serveCapture } from './captureService';

if (!process.send) throw new Error('captureChild must be started by CaptureProcess (it needs an IPC channel)');

// Ctrl-C in a terminal signals the whole process group; the parent decides when capture stops,
// so that the last interval's report is still delivered.
process.on('SIGINT', () => {});

serveCapture({
  send: (message: ChildMessage) => process.send?.(message),
  onMessage: (listener) => process.on('message', (m) => listener(m as ParentMessage)),
  onClose: (listener) =>
    process.on('disconnect', () => {
      listener();
      process.exit(0);
    }),
});

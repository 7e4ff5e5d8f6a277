import { defaultCaptureInterface, listCaptureInterfaces, type CaptureInterface } from '../../engine/collect/capture/interfaces';
import type { Command } from '../command';
import { formatTable } from '../table';

export const interfacesCommand: Command = {
  name: 'interfaces',
  summary: 'List the network interfaces packet capture can use, marking the default one',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx) {
    let interfaces: CaptureInterface[];
    try {
      interfaces = listCaptureInterfaces();
    } catch (e) {
      // Only libpcap knows what can be captured; without it there is no honest list to print.
      ctx.stderr.write(`portent interfaces: the libpcap binding (cap) cannot be loaded (${e instanceof Error ? e.message : String(e)}); install libpcap (Debian/Ubuntu: apt install libpcap0.8).\n`);
      return 1;
    }
    const chosen = defaultCaptureInterface();
    const fallback = chosen && interfaces.some((i) => i.name === chosen.name) ? chosen : null;
    if (ctx.values.json) {
      const rows = interfaces.map((i) => ({ ...i, default: i.name === fallback?.name }));
      ctx.stdout.write(JSON.stringify({ default: fallback, interfaces: rows }, null, 2) + '\n');
      return 0;
    }
    ctx.stdout.write(
      formatTable(
        ['NAME', 'DEFAULT', 'LOOPBACK', 'MAC', 'ADDRESSES'],
        interfaces.map((i) => [i.name, i.name === fallback?.name ? 'yes' : null, i.loopback ? 'yes' : null, i.mac, i.addresses.join(',')]),
      ),
    );
    ctx.stdout.write(
      fallback
        ? `\nPortent captures on ${fallback.name} unless told otherwise (${fallback.source.replaceAll('-', ' ')}).\n`
        : '\nNo default interface: there is no default route and no non-loopback interface; choose one with --iface.\n',
    );
    return 0;
  },
};

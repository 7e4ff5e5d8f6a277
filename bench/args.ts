/** `--name value` from a benchmark's arguments, or `fallback` when absent or valueless. */
export function optionOf(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

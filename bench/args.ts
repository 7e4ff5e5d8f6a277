/** `--name value` from a benchmark's arguments, or `fallback` when absent or valueless. */
export function optionOf(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

/**
 * Refuses, through `fail`, an argument that is not one of the named options, and an option that
 * takes a value given none.
 */
export function checkArgs(args: readonly string[], valueOptions: readonly string[], flagOptions: readonly string[], fail: (message: string) => never): void {
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!.replace(/^--/, '');
    if (!args[i]!.startsWith('--') || (!valueOptions.includes(name) && !flagOptions.includes(name))) fail(`unknown option ${args[i]}`);
    if (valueOptions.includes(name)) {
      if (args[i + 1] === undefined || args[i + 1]!.startsWith('--')) fail(`--${name} needs a value`);
      i++;
    }
  }
}

/** `--name N` as a whole number in [min, max], or `fallback`; anything else is refused through `fail`. */
export function wholeOption(args: readonly string[], name: string, fallback: string, min: number, max: number, fail: (message: string) => never): number {
  const v = Number(optionOf(args, name, fallback));
  if (!Number.isInteger(v) || v < min || v > max) fail(`--${name} must be a whole number from ${min} to ${max}`);
  return v;
}

import { CntError } from "../errors.js";

export interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  flags: Map<string, string | true>;
}

/** Flags that take a value; every other flag is a switch. */
const VALUED = new Set(["bins", "bias", "boundary", "skip", "gates", "input", "layout", "workers", "block-bytes", "link-edges"]);

/** `--name value`, `--name=value` and switches; unknown flags are errors, not ignored. */
export function parseArgs(argv: string[], known: ReadonlySet<string>): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!known.has(name)) throw new CntError("BAD_OPTION", `Unknown option --${name}; see cntscope --help.`);
    if (VALUED.has(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new CntError("BAD_OPTION", `Option --${name} needs a value.`);
      flags.set(name, value);
    } else {
      flags.set(name, true);
    }
  }
  return { command: positional.shift(), positional, flags };
}

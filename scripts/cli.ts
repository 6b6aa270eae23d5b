import { CliError } from '@portrait/shared';

/**
 * Runs a command-line tool's `main` and sets the exit code: a `CliError` prints its advice alone (no stack) with
 * its code, anything else is a bug and prints its stack with code 1.
 */
export function runCli(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof CliError) {
        process.stderr.write(`${name}: ${error.message}\n`);
        process.exitCode = error.exitCode;
        return;
      }
      process.stderr.write(`${name}: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

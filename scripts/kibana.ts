/**
 * Portrait's Kibana saved objects (data views, Lens panels, the overview and segment dashboards), generated from
 * their typed definitions in scripts/kibana/objects.ts.
 *
 *   npm run kibana -- generate [--prefix <prefix>] [--out <file>]   write the NDJSON (default infra/kibana/portrait.ndjson)
 *   npm run kibana -- check [<file>]                              check a file's structure: ids, references, panels
 *
 * The committed file is for the prefix `portrait`; for another prefix generate your own and import that one
 * (`npm run kibana:import -- <file>`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from '@portrait/shared';
import { parseCliArgs, runCli } from './cli';
import { savedObjects, toNdjson } from './kibana/objects';
import { parseNdjson, structuralProblems } from './kibana/validate';

export const DEFAULT_NDJSON = path.resolve(__dirname, '../infra/kibana/portrait.ndjson');

const USAGE = `Usage: npm run kibana -- <command>

Commands:
  generate [--prefix <prefix>] [--out <file>]   write the saved objects as NDJSON (default: prefix portrait, ${path.relative(process.cwd(), DEFAULT_NDJSON)})
  check [<file>]                                check a file: every line parses, ids unique, references and panels resolve`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(
    argv,
    { prefix: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
    USAGE,
  );
  const [command, file] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (command === 'generate') {
    const prefix = values.prefix ?? process.env.PORTRAIT_PREFIX ?? 'portrait';
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(prefix))
      throw new CliError(`--prefix ${JSON.stringify(prefix)}: lower-case letters, digits, - and _ only`, 2);
    const objects = savedObjects(prefix);
    const problems = structuralProblems(objects);
    if (problems.length > 0) throw new CliError(`the definitions do not hold together:\n  ${problems.join('\n  ')}`);
    const out = path.resolve(values.out ?? DEFAULT_NDJSON);
    writeFileSync(out, toNdjson(objects));
    process.stderr.write(`wrote ${objects.length} saved objects for prefix ${prefix} to ${out}\n`);
    return 0;
  }
  if (command === 'check') {
    const target = path.resolve(file ?? DEFAULT_NDJSON);
    let text: string;
    try {
      text = readFileSync(target, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${target}: ${(error as Error).message}`);
    }
    const parsed = parseNdjson(text);
    const problems = [...parsed.problems, ...structuralProblems(parsed.objects)];
    if (problems.length > 0) {
      process.stderr.write(`${target}: ${problems.length} problem(s)\n  ${problems.join('\n  ')}\n`);
      return 1;
    }
    process.stderr.write(`${target}: ${parsed.objects.length} saved objects, every reference and panel resolves\n`);
    return 0;
  }
  throw new CliError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`, 2);
}

if (require.main === module) runCli('kibana', main);

import fc from 'fast-check';

/**
 * One fixed seed for every property in the run, so the suite is deterministic: a counterexample is a bug
 * to fix, not something a re-run makes go away. `FC_SEED=<n>` explores other inputs; `FC_RUNS` more of them.
 */
const seed = Number(process.env.FC_SEED ?? 20_261_201);
const numRuns = process.env.FC_RUNS === undefined ? undefined : Number(process.env.FC_RUNS);
fc.configureGlobal({ seed, ...(numRuns === undefined ? {} : { numRuns }) });
if (process.env.FC_SEED !== undefined || process.env.FC_VERBOSE !== undefined) process.stderr.write(`fast-check seed ${seed}\n`);

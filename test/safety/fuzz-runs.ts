/**
 * Fuzz-runs: how many fast-check cases the safety suite spends on each hook route. One budget per
 * hook, `SAFETY_FUZZ_RUNS` (default 2,000, what CI runs), split evenly over the properties that
 * fuzz that hook; raise it for long runs (`SAFETY_FUZZ_RUNS=50000 npm run test:safety`).
 */

/** @defaultValue 2000 */
export const fuzzCasesPerHook = parseRuns(process.env.SAFETY_FUZZ_RUNS);

function parseRuns(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 2000;
  const runs = Number(value);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new Error(
      `SAFETY_FUZZ_RUNS=${JSON.stringify(value)} is not a positive whole number of cases per hook.`,
    );
  }
  return runs;
}

/**
 * `numRuns` for one of the `properties` properties that share one hook's cases, so that the hook
 * gets at least `fuzzCasesPerHook` cases in all.
 * @example
 * await fc.assert(property, { numRuns: fuzzRuns(5) }); // 400 cases with the default budget
 */
export function fuzzRuns(properties: number): number {
  return Math.ceil(fuzzCasesPerHook / properties);
}

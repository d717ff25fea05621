/** The named options of parseArgs as whole numbers ≥ 1, or an error naming the first that is not. */
export function wholeNumbers(opt, names) {
  const out = {};
  for (const name of names) {
    const v = Number(opt[name]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
    out[name] = v;
  }
  return out;
}

/** Bench settings from environment variables. */

/** `process.env[name]`, or `dflt` when unset. */
export const env = (name, dflt) => process.env[name] ?? dflt;

/** A comma-separated list of positive integers ("1,4,16"); anything else is dropped. */
export const list = (s) =>
  String(s)
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isInteger(x) && x > 0);

/** A JSON object from an environment variable, or {} when unset. */
export const json = (name) => (process.env[name] ? JSON.parse(process.env[name]) : {});

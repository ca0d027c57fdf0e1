/** The default of one run-config key, from the config schema (the defaults a plain `nextlong run` uses). */
import { RunConfigSchema } from '@nextlong/core';

export const configDefault = (key) => RunConfigSchema.shape[key].parse(undefined);

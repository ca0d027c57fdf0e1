/**
 * Which inputs of an ONNX embedding graph we feed and which output we read, decided once at load:
 * an input or output we do not know is a ConfigError naming the model file and the name, before
 * any text is embedded.
 */
import { ConfigError } from '@nextlong/core';
import type { ValueMeta } from './ort-worker.js';

export type IdType = 'int64' | 'int32';

export interface ModelInput {
  name: string;
  type: IdType;
  /** Declared rank (task_id is a scalar in jina-v3's export; [1] in some). */
  rank?: number;
}

export interface ModelIo {
  inputs: ModelInput[];
  output: string;
  /** The output is [batch, dim], pooled by the graph (sentence_embedding): used as is. */
  pooled: boolean;
  /** The output is already L2-normalized (our static model's graph divides by the norm). */
  normalized: boolean;
}

/** Inputs we know how to fill. */
export const KNOWN_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids', 'task_id'];
/** Token-level outputs, in order of preference (HF exports, sentence-transformers exports, jina-v3). */
export const TOKEN_OUTPUTS = ['last_hidden_state', 'token_embeddings', 'text_embeds'];
/** A sentence-transformers export (optimum, library sentence_transformers) ends in this. */
export const POOLED_OUTPUT = 'sentence_embedding';

export interface IoChoice {
  isStatic: boolean;
  /** A static folder built by ensureStaticModel (its graph normalizes). */
  ownStaticModel: boolean;
  /** The folder chose a task (config.json lora_adaptations). */
  hasTasks: boolean;
  /** The user named the pooling: the token output is needed. */
  poolingFlag: boolean;
  /** Where the task list lives, for messages. */
  configFile: string;
}

function inputOf(m: ValueMeta, modelFile: string): ModelInput {
  if (!KNOWN_INPUTS.includes(m.name)) {
    throw new ConfigError(`model: ${modelFile}: input ${m.name} is not one we can feed (supported: ${KNOWN_INPUTS.join(', ')})`);
  }
  const type = m.isTensor ? (m.type ?? 'int64') : 'int64';
  if (type !== 'int64' && type !== 'int32') throw new ConfigError(`model: ${modelFile}: input ${m.name} is ${type}, expected int64 or int32`);
  return { name: m.name, type, ...(m.shape ? { rank: m.shape.length } : {}) };
}

export function modelIo(inputsMeta: ValueMeta[], outputsMeta: ValueMeta[], modelFile: string, c: IoChoice): ModelIo {
  const inputs = inputsMeta.map((m) => inputOf(m, modelFile));
  if (!inputs.some((i) => i.name === 'input_ids')) throw new ConfigError(`model: ${modelFile}: no input_ids input`);
  if (inputs.some((i) => i.name === 'task_id') && !c.hasTasks) {
    throw new ConfigError(`model: ${modelFile}: input task_id needs a task list, but ${c.configFile} has no lora_adaptations`);
  }
  const names = outputsMeta.map((o) => o.name);
  if (names.length === 0) throw new ConfigError(`model: ${modelFile}: no outputs`);
  if (c.isStatic) {
    const output = names.includes('embeddings') ? 'embeddings' : names[0];
    return { inputs, output, pooled: false, normalized: c.ownStaticModel && output === 'embeddings' };
  }
  const tokenOut = TOKEN_OUTPUTS.find((n) => names.includes(n)) ?? loneRank3(outputsMeta);
  if (names.includes(POOLED_OUTPUT) && !(c.poolingFlag && tokenOut)) {
    return { inputs, output: POOLED_OUTPUT, pooled: true, normalized: false };
  }
  if (!tokenOut) {
    const why = names.includes(POOLED_OUTPUT) ? `--embed-pooling needs token vectors; ` : '';
    throw new ConfigError(
      `model: ${modelFile}: ${why}outputs ${names.join(', ')}; expected one of ${[...TOKEN_OUTPUTS, POOLED_OUTPUT].join(', ')}`,
    );
  }
  return { inputs, output: tokenOut, pooled: false, normalized: false };
}

/** The only output, when it is declared [batch, seq, dim] (an export that named it otherwise). */
function loneRank3(outputs: ValueMeta[]): string | undefined {
  return outputs.length === 1 && outputs[0].shape?.length === 3 ? outputs[0].name : undefined;
}

/** Declared width of the output's last axis, when it is a number. */
export function declaredDim(outputs: ValueMeta[], output: string): number | undefined {
  const shape = outputs.find((x) => x.name === output)?.shape;
  const last = shape?.[shape.length - 1];
  return typeof last === 'number' && last > 0 ? last : undefined;
}

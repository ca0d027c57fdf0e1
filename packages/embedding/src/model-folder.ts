/**
 * A transformer model folder read the way sentence-transformers lays it out: modules.json (the
 * module chain), 1_Pooling/config.json (pooling mode, include_prompt), a Normalize module,
 * config_sentence_transformers.json (named prompts, default prompt), sentence_bert_config.json
 * (max_seq_length), config.json (jina-v3's lora_adaptations, vocab_size), and the ONNX file at
 * the root or under onnx/. Each problem is a ConfigError naming the file and the field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@nextlong/core';
import { declaredMaxTokens } from './input-encoders.js';

export const POOLING_MODES = ['cls', 'mean', 'max', 'lasttoken', 'mean_sqrt_len'] as const;
export type Pooling = (typeof POOLING_MODES)[number];

/**
 * An ONNX file variant: model_<variant>.onnx beside model.onnx, as transformers.js repos (fp16,
 * quantized, int8, q4 …) and sentence-transformers repos (O3, qint8_avx512 …) name them; fp32 is model.onnx.
 */
export type OnnxVariant = string;

/** The default task of jina-embeddings-v3 (its README's symmetric similarity adapter). */
export const DEFAULT_TASK = 'text-matching';

export interface ModelFolderOptions {
  /** Overrides the folder's pooling. */
  pooling?: Pooling;
  /** A prompt name of config_sentence_transformers.json, else the prompt text itself. */
  prompt?: string;
  /** jina-v3 task (a name of config.json lora_adaptations); default text-matching. */
  task?: string;
  /** Which ONNX file: model.onnx (default) or model_<variant>.onnx. */
  variant?: OnnxVariant;
}

export interface ModelFolder {
  modelFile: string;
  tokenizerFile: string;
  /** Mode and the file it came from (`--embed-pooling` when the flag chose it). */
  pooling: Pooling;
  poolingSource: string;
  /** Whether prompt tokens count in the pooling (sentence-transformers' include_prompt). */
  includePrompt: boolean;
  /** Text put before every input ('' = none). */
  prompt: string;
  /** The folder declares a Normalize module (our vectors are always unit length anyway). */
  normalize: boolean;
  maxSeqLength: number;
  /** lora_adaptations of config.json and the index of the task chosen, when the folder has them. */
  tasks?: string[];
  taskId?: number;
  task?: string;
  /** config.json vocab_size, when declared: the model's embedding rows. */
  vocabSize?: number;
}

type Json = Record<string, unknown>;

/** A JSON side file, or undefined when absent; a file that does not parse is an error naming it. */
function readJson(file: string): Json | undefined {
  if (!existsSync(file)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`model: ${file}: not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
  if (typeof v !== 'object' || v === null) throw new ConfigError(`model: ${file}: expected a JSON object`);
  return v as Json;
}

/** The ONNX file: <variant name> at the root, else under onnx/; without a variant model.onnx, else model_quantized.onnx. */
export function findModelFile(folder: string, variant?: OnnxVariant): string {
  if (variant !== undefined && !/^[A-Za-z0-9_]+$/.test(variant)) {
    throw new ConfigError(`model: embedVariant ${JSON.stringify(variant)}: letters, digits and _ only (model_<variant>.onnx)`);
  }
  const names = variant ? [variant === 'fp32' ? 'model.onnx' : `model_${variant}.onnx`] : ['model.onnx', 'model_quantized.onnx'];
  const tried: string[] = [];
  for (const name of names) {
    for (const file of [join(folder, name), join(folder, 'onnx', name)]) {
      if (existsSync(file)) return file;
      tried.push(file);
    }
  }
  throw new ConfigError(`model: no ONNX file in ${folder} (looked for ${tried.join(', ')})`);
}

interface StModule {
  type: string;
  path: string;
}

/** modules.json: the module chain; a module we cannot apply (Dense, a custom one) is refused. */
function readModules(folder: string): StModule[] | undefined {
  const file = join(folder, 'modules.json');
  const raw = readJson(file);
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw new ConfigError(`model: ${file}: expected a list of modules`);
  return (raw as unknown[]).map((m, i) => {
    const t = (m as Json | null)?.type;
    if (typeof t !== 'string') throw new ConfigError(`model: ${file}: [${i}].type is missing`);
    const kind = t.split('.').pop()!;
    // the transformer itself (sentence_transformers.models.Transformer, or a custom class such
    // as jina-v3's custom_st.Transformer) is the ONNX graph; what follows must be ours to apply
    if (i > 0 && !['Pooling', 'Normalize'].includes(kind)) {
      throw new ConfigError(`model: ${file}: [${i}].type ${t} is not supported (supported after the transformer: Pooling, Normalize)`);
    }
    return { type: kind, path: String((m as Json).path ?? '') };
  });
}

/** Pooling mode of a 1_Pooling/config.json: exactly one pooling_mode_* flag set. */
function readPooling(file: string): { pooling: Pooling; includePrompt: boolean } {
  const cfg = readJson(file);
  if (!cfg) throw new ConfigError(`model: ${file} not found (named by modules.json)`);
  const modes: Record<string, Pooling> = {
    pooling_mode_cls_token: 'cls',
    pooling_mode_mean_tokens: 'mean',
    pooling_mode_max_tokens: 'max',
    pooling_mode_lasttoken: 'lasttoken',
    pooling_mode_mean_sqrt_len_tokens: 'mean_sqrt_len',
  };
  const set = Object.keys(cfg).filter((k) => k.startsWith('pooling_mode_') && cfg[k] === true);
  const unknown = set.filter((k) => !(k in modes));
  if (unknown.length) {
    throw new ConfigError(`model: ${file}: ${unknown[0]} is not supported (supported: ${Object.keys(modes).join(', ')})`);
  }
  if (set.length !== 1) {
    throw new ConfigError(`model: ${file}: expected exactly one pooling_mode_* set to true, found ${set.length ? set.join(', ') : 'none'}`);
  }
  return { pooling: modes[set[0]], includePrompt: cfg.include_prompt !== false };
}

/**
 * The prompt text: a name of `prompts`, else the text as given. Without one: the task's prompt
 * (jina-v3), else a document prompt, else default_prompt_name (as encode_document() does).
 */
function resolvePrompt(file: string, st: Json | undefined, wanted: string | undefined, task: string | undefined): string {
  const prompts = (st?.prompts ?? {}) as Record<string, unknown>;
  if (typeof prompts !== 'object' || Array.isArray(prompts)) throw new ConfigError(`model: ${file}: prompts must be an object`);
  if (wanted !== undefined) return typeof prompts[wanted] === 'string' ? (prompts[wanted] as string) : wanted;
  // jina-v3: encode(task=t, prompt_name=t) is its documented use: the task's prompt goes with it
  if (task !== undefined && typeof prompts[task] === 'string') return prompts[task] as string;
  // chunks are documents: sentence-transformers' encode_document() picks these names first
  for (const n of ['document', 'passage', 'corpus']) if (typeof prompts[n] === 'string') return prompts[n] as string;
  const name = st?.default_prompt_name;
  if (name === undefined || name === null) return '';
  if (typeof name !== 'string' || typeof prompts[name] !== 'string') {
    throw new ConfigError(`model: ${file}: default_prompt_name ${JSON.stringify(name)} is not a key of prompts`);
  }
  return prompts[name] as string;
}

/** jina-v3's task adapters: config.json lora_adaptations, the task's index fed as task_id. */
function resolveTask(file: string, config: Json | undefined, task: string | undefined): Pick<ModelFolder, 'tasks' | 'taskId' | 'task'> {
  const tasks = config?.lora_adaptations;
  if (tasks === undefined) {
    if (task !== undefined) throw new ConfigError(`model: --embed-task ${task}: ${file} declares no lora_adaptations (a jina-v3 folder does)`);
    return {};
  }
  if (!Array.isArray(tasks) || !tasks.every((t) => typeof t === 'string')) {
    throw new ConfigError(`model: ${file}: lora_adaptations must be a list of task names`);
  }
  const chosen = task ?? DEFAULT_TASK;
  const taskId = tasks.indexOf(chosen);
  if (taskId < 0) throw new ConfigError(`model: ${file}: lora_adaptations has no task "${chosen}" (tasks: ${tasks.join(', ')})`);
  return { tasks: tasks as string[], taskId, task: chosen };
}

/** Reads everything the embedder needs from a transformer folder; flags in `o` win. */
export function readModelFolder(folder: string, o: ModelFolderOptions = {}): ModelFolder {
  const modelFile = findModelFile(folder, o.variant);
  const tokenizerFile = join(folder, 'tokenizer.json');
  if (!existsSync(tokenizerFile)) throw new ConfigError(`model: ${tokenizerFile} not found`);
  const modules = readModules(folder);
  const poolingModule = modules?.find((m) => m.type === 'Pooling');
  // no modules.json: the BERT-export default we always used (masked mean)
  let pooled: { pooling: Pooling; includePrompt: boolean; source: string } = { pooling: 'mean', includePrompt: true, source: 'default' };
  if (poolingModule) {
    const file = join(folder, poolingModule.path, 'config.json');
    pooled = { ...readPooling(file), source: file };
  }
  const stFile = join(folder, 'config_sentence_transformers.json');
  const configFile = join(folder, 'config.json');
  const config = readJson(configFile);
  const taskInfo = resolveTask(configFile, config, o.task);
  const vocab = config?.vocab_size;
  return {
    modelFile,
    tokenizerFile,
    pooling: o.pooling ?? pooled.pooling,
    poolingSource: o.pooling ? '--embed-pooling' : pooled.source,
    includePrompt: pooled.includePrompt,
    prompt: resolvePrompt(stFile, readJson(stFile), o.prompt, taskInfo.task),
    normalize: modules?.some((m) => m.type === 'Normalize') ?? false,
    maxSeqLength: declaredMaxTokens(folder),
    ...taskInfo,
    ...(typeof vocab === 'number' && Number.isInteger(vocab) && vocab > 0 ? { vocabSize: vocab } : {}),
  };
}

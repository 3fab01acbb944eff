import { readFileSync } from 'node:fs';
import { parseDocument, visit } from 'yaml';
import { GatewayError, errorMessage } from '../core/errors';
import { crossChecks, schema, schemaKeys, type Field, type GatewayConfig, type ListField } from './schema';

export interface LoadOptions {
  /** conf/default.yaml */
  defaultsFile: string;
  /** --config FILE: YAML merged over the defaults. */
  configFile?: string;
  /** GW_* variables override single keys (GW_HTTP_PORT=9000, GW_HUB_CLOSE_AFTER=30). */
  env?: NodeJS.ProcessEnv;
}

/** `hub.closeAfter` -> `GW_HUB_CLOSE_AFTER` */
export function envNameOf(key: string): string {
  return `GW_${key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase()}`;
}

function configError(key: string, fault: string): GatewayError {
  return new GatewayError('CONFIG_INVALID', `config key "${key}": ${fault}`);
}

/**
 * A plain YAML integer as written. YAML reads `id: 34020000002000000000` as a number, rounded
 * past 2^53 (to 34020000002000000000 for ...001); GB28181 ids and domains are digit strings.
 * The loader keeps the digits: a string key gets them as written, a number key their value.
 */
class YamlDigits {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

const PLAIN_INTEGER = /^[-+]?\d+$/;

function parseYaml(text: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw doc.errors[0]!;
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && node.type === 'PLAIN' && node.source !== undefined && PLAIN_INTEGER.test(node.source)) node.value = new YamlDigits(node.source);
    },
  });
  return doc.toJS();
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GatewayError('CONFIG_INVALID', `cannot read config file ${file}: ${errorMessage(err)}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new GatewayError('CONFIG_INVALID', `config file ${file} is not valid YAML: ${errorMessage(err)}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new GatewayError('CONFIG_INVALID', `config file ${file} must be a YAML mapping`);
  return value as Record<string, unknown>;
}

/** Flattens nested YAML into dotted keys, refusing keys the schema does not know. */
function flatten(source: Record<string, unknown>, file: string, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  const known = new Map(schemaKeys());
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (known.has(path)) {
      out.set(path, value);
    } else if (value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof YamlDigits) && [...known.keys()].some((k) => k.startsWith(`${path}.`))) {
      flatten(value as Record<string, unknown>, file, path, out);
    } else {
      throw configError(path, `unknown key (in ${file})`);
    }
  }
  return out;
}

function coerce(key: string, field: Field, raw: unknown, fromEnv: boolean): unknown {
  if (field.kind === 'list') return coerceList(key, field, raw, fromEnv);
  let value = raw;
  if (raw instanceof YamlDigits) value = field.kind === 'string' ? raw.text : Number(raw.text);
  if (fromEnv && typeof raw === 'string') {
    if (field.kind === 'int' || field.kind === 'number') value = raw.trim() === '' ? NaN : Number(raw);
    else if (field.kind === 'boolean') value = raw === 'true' ? true : raw === 'false' ? false : raw;
  }
  switch (field.kind) {
    case 'int':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw configError(key, `expected a number, got ${JSON.stringify(raw)}`);
      if (field.kind === 'int' && !Number.isInteger(value)) throw configError(key, `expected a whole number, got ${value}`);
      if (value < field.min || value > field.max) throw configError(key, `${value} is out of range ${field.min}..${field.max}`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw configError(key, `expected true or false, got ${JSON.stringify(raw)}`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !field.values.includes(value)) throw configError(key, `expected one of ${field.values.join(', ')}, got ${JSON.stringify(raw)}`);
      return value;
    case 'string':
      if (typeof value !== 'string') throw configError(key, `expected a string, got ${JSON.stringify(raw)}`);
      if (field.pattern && !field.pattern.test(value)) throw configError(key, `expected ${field.hint ?? field.pattern.source}, got ${JSON.stringify(value)}`);
      return value;
  }
}

/** A list of flat records; every fault names `key[index].field`. From GW_ it is JSON. */
function coerceList(key: string, field: ListField, raw: unknown, fromEnv: boolean): unknown {
  let value = raw;
  if (fromEnv && typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw configError(key, 'expected a JSON array (from the environment)');
    }
  }
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw configError(key, `expected a list, got ${JSON.stringify(value).slice(0, 60)}`);
  return value.map((entry: unknown, index) => {
    const at = `${key}[${index}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw configError(at, 'expected a mapping');
    const record = entry as Record<string, unknown>;
    for (const name of Object.keys(record)) if (!Object.hasOwn(field.item, name)) throw configError(`${at}.${name}`, 'unknown key');
    const out: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(field.item)) {
      if (record[name] === undefined) {
        if (spec.default === undefined) throw configError(`${at}.${name}`, 'missing');
        out[name] = spec.default;
      } else {
        out[name] = coerce(`${at}.${name}`, spec.field, record[name], false);
      }
    }
    return out;
  });
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/**
 * Loads conf/default.yaml, merges --config over it and GW_ variables over both, and checks every
 * key. A fault throws CONFIG_INVALID naming the key and what is wrong with it.
 */
export function loadConfig(options: LoadOptions): GatewayConfig {
  const values = flatten(readYaml(options.defaultsFile), options.defaultsFile);
  if (options.configFile) {
    for (const [key, value] of flatten(readYaml(options.configFile), options.configFile)) values.set(key, value);
  }
  const fromEnv = new Set<string>();
  const env = options.env ?? {};
  const known = schemaKeys();
  const envNames = new Map(known.map(([key]) => [envNameOf(key), key]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('GW_') || value === undefined) continue;
    const key = envNames.get(name);
    if (!key) throw new GatewayError('CONFIG_INVALID', `environment variable ${name} names no config key`);
    values.set(key, value);
    fromEnv.add(key);
  }
  const config: Record<string, unknown> = {};
  for (const [key, field] of known) {
    if (!values.has(key)) throw configError(key, `missing (it must be in ${options.defaultsFile})`);
    setPath(config, key, coerce(key, field, values.get(key), fromEnv.has(key)));
  }
  const typed = config as unknown as GatewayConfig;
  for (const check of crossChecks) if (!check.ok(typed)) throw configError(check.key, check.fault);
  return typed;
}

export { schema };

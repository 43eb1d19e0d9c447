/** A JSON scalar. */
export type JsonPrimitive = null | boolean | number | string;
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one (not I-JSON, RFC 7493).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Deterministic JSON for hashing and signing: the same value always gives the same bytes.
 *
 * For the values accepted here (plain JSON: null, booleans, finite numbers, well-formed strings, arrays,
 * plain objects) the output is that of RFC 8785 (JSON Canonicalization Scheme): no whitespace, object keys
 * sorted by UTF-16 code units, numbers and strings serialized as ECMAScript's JSON.stringify does.
 * Everything else (undefined, NaN, Infinity, bigint, functions, symbols, Dates, Maps, class instances,
 * lone surrogates, cycles) is refused with a TypeError naming the path, rather than silently changed the
 * way JSON.stringify would (undefined dropped, NaN written as null), because a signature over bytes that
 * differ from the caller's value would not verify after a round trip.
 */
export function canonicalJson(value: JsonValue): string {
  return write(value, '$', new Set());
}

/** True for `{}`-style objects (prototype Object.prototype or null): not arrays, Dates, Maps or class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function writeString(text: string, path: string): string {
  if (LONE_SURROGATE.test(text)) throw new TypeError(`canonical JSON: ${path} contains a lone UTF-16 surrogate`);
  return JSON.stringify(text);
}

function write(value: unknown, path: string, open: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${path} is ${value}, not a finite number`);
      return JSON.stringify(value);
    case 'string':
      return writeString(value, path);
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON: ${path} is ${typeof value}, not a JSON value`);
  }
  if (open.has(value)) throw new TypeError(`canonical JSON: ${path} refers back to an enclosing value (a cycle)`);
  open.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = `[${value.map((item, i) => write(item, `${path}[${i}]`, open)).join(',')}]`;
  } else if (isPlainObject(value)) {
    // Array.prototype.sort without a comparator orders strings by UTF-16 code units, as RFC 8785 section 3.2.3 asks.
    const keys = Object.keys(value).sort();
    out = `{${keys.map((k) => `${writeString(k, `${path} (a key)`)}:${write(value[k], `${path}.${k}`, open)}`).join(',')}}`;
  } else {
    throw new TypeError(`canonical JSON: ${path} is a ${value.constructor?.name ?? 'non-plain'} object, not a plain object or array`);
  }
  open.delete(value);
  return out;
}

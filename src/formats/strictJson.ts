// A strict JSON parser for untrusted headers. Unlike JSON.parse it rejects duplicate object keys
// (JSON.parse silently keeps the last one), keeps objects in Maps (a "__proto__" key is plain data),
// keeps integers beyond 2^53 exact as bigint, caps nesting depth, and reports the failing position.

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | Map<string, JsonValue>;

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    /** Character index in the parsed text. */
    readonly position: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** The values would take more memory than the caller allowed (see parseStrictJson's workBytes). */
export class JsonTooLargeError extends Error {
  constructor(
    readonly workBytes: number,
    /** Character index where the budget ran out. */
    readonly position: number,
  ) {
    super(`the JSON values would take more than ${Math.round(workBytes / (1024 * 1024))} MB of memory`);
    this.name = 'JsonTooLargeError';
  }
}

// Estimated V8 heap bytes per parsed value (rounded up from process.memoryUsage measurements).
const COST = { map: 160, entry: 48, array: 48, slot: 8, string: 32, number: 16 } as const;

/**
 * Parses `text`; throws JsonSyntaxError with the position of the first problem, or JsonTooLargeError
 * once the values built would take more than `workBytes` (estimated as they are created).
 */
export function parseStrictJson(text: string, maxDepth = 64, workBytes = Infinity): JsonValue {
  let i = 0;
  const n = text.length;
  let work = 0;
  const fail = (msg: string, at = i): never => {
    throw new JsonSyntaxError(msg, at);
  };
  const charge = (bytes: number): void => {
    work += bytes;
    if (work > workBytes) throw new JsonTooLargeError(workBytes, i);
  };
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    let out = '';
    let run = i;
    for (;;) {
      if (i >= n) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(run, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        out += text.slice(run, i);
        const e = text[i + 1];
        const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else if (e !== undefined && e in map) {
          out += map[e]!;
          i += 2;
        } else fail('bad escape');
        run = i;
        continue;
      }
      i++;
    }
  };
  const num = (): number | bigint => {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r) fail('bad number');
    const s = r![0];
    i += s.length;
    if (r![1] === undefined && r![2] === undefined) {
      const v = Number(s);
      return Number.isSafeInteger(v) ? v : BigInt(s);
    }
    return Number(s);
  };
  // Iterative over containers so hostile nesting cannot overflow the JS stack (depth is also capped).
  type Frame = { kind: 'arr'; v: JsonValue[] } | { kind: 'obj'; v: Map<string, JsonValue>; key: string | undefined };
  const stack: Frame[] = [];
  let result: JsonValue | undefined;
  const scalarOrOpen = (): JsonValue | Frame => {
    ws();
    if (i >= n) fail('unexpected end of text');
    const c = text[i];
    if (c === '{') {
      i++;
      charge(COST.map);
      return { kind: 'obj', v: new Map(), key: undefined };
    }
    if (c === '[') {
      i++;
      charge(COST.array);
      return { kind: 'arr', v: [] };
    }
    if (c === '"') {
      const v = str();
      charge(COST.string + 2 * v.length);
      return v;
    }
    if (c === 't' && text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (c === 'f' && text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (c === 'n' && text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      charge(COST.number);
      return num();
    }
    return fail(`unexpected character ${JSON.stringify(c)}`);
  };
  const isFrame = (x: JsonValue | Frame): x is Frame =>
    x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Map) && 'kind' in x;

  // Places a finished value into the parent frame, or as the result.
  const place = (v: JsonValue): void => {
    const top = stack[stack.length - 1];
    if (!top) {
      result = v;
      return;
    }
    charge(top.kind === 'arr' ? COST.slot : COST.entry);
    if (top.kind === 'arr') top.v.push(v);
    else {
      top.v.set(top.key!, v);
      top.key = undefined;
    }
  };
  // Parses the next value; containers are opened, and their first element is handled by the loop.
  const beginValue = (): void => {
    const x = scalarOrOpen();
    if (isFrame(x)) {
      if (stack.length >= maxDepth) fail(`nesting deeper than ${maxDepth}`);
      stack.push(x);
      ws();
      if (x.kind === 'arr' && text[i] === ']') {
        i++;
        stack.pop();
        place(x.v);
      } else if (x.kind === 'obj' && text[i] === '}') {
        i++;
        stack.pop();
        place(x.v);
      } else if (x.kind === 'obj') readKey(x);
      else beginValue();
    } else place(x);
  };
  const readKey = (f: Frame & { kind: 'obj' }): void => {
    ws();
    if (text[i] !== '"') fail('expected a string key');
    const at = i;
    const k = str();
    charge(COST.string + 2 * k.length);
    if (f.v.has(k)) fail(`duplicate key ${JSON.stringify(k.slice(0, 80))}`, at);
    ws();
    if (text[i] !== ':') fail("expected ':'");
    i++;
    f.key = k;
    beginValue();
  };

  beginValue();
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    ws();
    const c = text[i];
    if (c === ',') {
      i++;
      if (top.kind === 'obj') readKey(top);
      else beginValue();
    } else if ((c === ']' && top.kind === 'arr') || (c === '}' && top.kind === 'obj')) {
      i++;
      stack.pop();
      place(top.v);
    } else fail(i >= n ? 'unexpected end of text' : `unexpected character ${JSON.stringify(c)}`);
  }
  ws();
  if (i < n) fail('unexpected data after the JSON value');
  return result as JsonValue;
}

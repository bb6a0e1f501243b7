/**
 * TF.js models bundled as JavaScript (nsfwjs ships `model.min.js` and `group1-shard1of1.min.js`):
 * a browserify "standalone" UMD wrapper around one module whose body is `<m>.exports = <literal>`
 * (the model JSON as a minified object literal, or the weight shard as one base64 string).
 * Nothing is ever run: the wrapper is recognised by its text, the literal is read by a small
 * grammar for data (objects, arrays, strings, numbers, true/false/null, the minifier's !0/!1 and
 * void 0), and the text after it must be the wrapper's fixed closing. Anything else is BAD_HEADER.
 *
 *   !function(e){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=e();...
 *   ...}({1:[function(e,a,n){a.exports=<literal>},{}]},{},[1])(1)});
 */

export { BUNDLE_PREFIX, isBundle } from "../shared/magic.js";

/** Where module 1's `exports=` literal starts in the bundle's text, or -1. */
export function bundleLiteralStart(text: string): number {
  const m = /\{1:\[function\(([\w$]+),([\w$]+),([\w$]+)\)\{([\w$]+)\.exports=/.exec(text);
  if (!m || m[4] !== m[2]) return -1;
  return m.index + m[0].length;
}

/** The wrapper's closing after module 1's literal: one module, no dependencies, entry [1]. */
export const BUNDLE_CLOSING = /^;?\}\s*,\s*\{\s*\}\s*\]\s*\}\s*,\s*\{\s*\}\s*,\s*\[\s*1\s*\]\s*\)\s*\(\s*1\s*\)\s*\}\s*\)\s*;?\s*$/;

export class LiteralError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
  }
}

export type LiteralValue = string | number | boolean | null | LiteralValue[] | { [key: string]: LiteralValue };

/**
 * Parse one JavaScript data literal starting at `start`; returns it and the index after it.
 * Objects are null-prototype (a key "__proto__" is an ordinary own key); duplicate keys are an error.
 */
export function parseLiteral(text: string, start: number, maxDepth = 256): { value: LiteralValue; end: number } {
  let i = start;
  const error = (what: string) => new LiteralError(`${what} at character ${i}`, i);
  const space = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const identifier = /[A-Za-z_$][\w$]*/y;
  const number = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
  const string = (): string => {
    const quote = text[i++];
    let out = "";
    let from = i;
    for (;;) {
      if (i >= text.length) throw error("an unterminated string");
      const c = text[i];
      if (c === quote) break;
      if (c === "\n") throw error("a line break inside a string");
      if (c === "\\") {
        out += text.slice(from, i);
        const e = text[i + 1];
        const simple: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', "/": "/", n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", "0": "\0" };
        if (e !== undefined && Object.hasOwn(simple, e)) {
          out += simple[e];
          i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else if (e === "x" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
          i += 4;
        } else {
          throw error("an unsupported escape in a string");
        }
        from = i;
        continue;
      }
      i++;
    }
    out += text.slice(from, i);
    i++;
    return out;
  };
  // An explicit stack: nesting depth is bounded and never recurses on the engine's stack.
  type Frame = { kind: "object"; value: { [key: string]: LiteralValue }; key?: string } | { kind: "array"; value: LiteralValue[] };
  const stack: Frame[] = [];
  let result: LiteralValue | undefined;
  const scalar = (): LiteralValue | undefined => {
    const c = text[i];
    if (c === '"' || c === "'") return string();
    if (c === "!" && (text[i + 1] === "0" || text[i + 1] === "1")) {
      i += 2;
      return text[i - 1] === "0";
    }
    number.lastIndex = i;
    const n = number.exec(text);
    if (n) {
      i += n[0].length;
      return Number(n[0]);
    }
    identifier.lastIndex = i;
    const id = identifier.exec(text);
    if (id) {
      if (id[0] === "true" || id[0] === "false" || id[0] === "null") {
        i += id[0].length;
        return id[0] === "true" ? true : id[0] === "false" ? false : null;
      }
      if (id[0] === "void" && /^void\s*0\b/.test(text.slice(i, i + 8))) {
        i += /^void\s*0/.exec(text.slice(i, i + 8))![0].length;
        return null;
      }
      throw error(`the name ${JSON.stringify(id[0].slice(0, 20))} where a data value was expected (code is never run)`);
    }
    return undefined;
  };
  const place = (value: LiteralValue) => {
    const top = stack[stack.length - 1];
    if (!top) result = value;
    else if (top.kind === "array") top.value.push(value);
    else {
      top.value[top.key!] = value;
      top.key = undefined;
    }
  };
  for (;;) {
    space();
    const top = stack[stack.length - 1];
    // Inside an object, read a key first.
    if (top?.kind === "object" && top.key === undefined) {
      if (text[i] === "}") {
        i++;
        stack.pop();
        place(top.value);
      } else {
        let key: string;
        const c = text[i];
        if (c === '"' || c === "'") key = string();
        else {
          identifier.lastIndex = i;
          number.lastIndex = i;
          const m = identifier.exec(text) ?? number.exec(text);
          if (!m) throw error("a missing object key");
          key = m[0];
          i += m[0].length;
        }
        space();
        if (text[i] !== ":") throw error("a missing ':'");
        i++;
        if (Object.hasOwn(top.value, key)) throw error(`the key ${JSON.stringify(key.slice(0, 40))} twice`);
        top.key = key;
        continue;
      }
    } else if (top?.kind === "array" && text[i] === "]") {
      i++;
      stack.pop();
      place(top.value);
    } else {
      const c = text[i];
      if (c === "{" || c === "[") {
        if (stack.length >= maxDepth) throw error(`nesting deeper than ${maxDepth}`);
        i++;
        stack.push(c === "{" ? { kind: "object", value: Object.create(null) } : { kind: "array", value: [] });
        continue;
      }
      const value = scalar();
      if (value === undefined) throw error(i >= text.length ? "the end of the text where a value was expected" : `${JSON.stringify(text.slice(i, i + 12))} where a value was expected`);
      place(value);
    }
    if (stack.length === 0) return { value: result!, end: i };
    // After a value inside a container: ',' or the closing bracket.
    space();
    const now = stack[stack.length - 1];
    const close = now.kind === "object" ? "}" : "]";
    if (text[i] === ",") {
      i++; // a trailing comma before the closing bracket is valid JavaScript
    } else if (text[i] !== close) {
      throw error(`a missing ',' or '${close}'`);
    }
  }
}

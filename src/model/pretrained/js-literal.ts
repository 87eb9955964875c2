// Reads the data out of a JavaScript file that wraps it (a UMD bundle setting `x.exports = {...}`)
// without running any of it: the file is parsed with acorn, the one `*.exports =` assignment of an
// object or string literal is found, and that value is converted node by node. Only literal nodes are
// accepted (objects with plain keys, arrays, strings, numbers, booleans, null, and the minifier's
// `!0` / `!1` / `-n` / `void 0`); any other node in the value is refused, naming the file.
import { parse, type Node } from 'acorn';

import { UserError } from '../../util/errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

type AnyNode = Node & Record<string, unknown>;

function children(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === 'loc' || k === 'range') continue;
    const items = Array.isArray(v) ? v : [v];
    for (const c of items) if (c && typeof c === 'object' && typeof (c as AnyNode).type === 'string') out.push(c as AnyNode);
  }
  return out;
}

function isExportsTarget(n: AnyNode): boolean {
  if (n.type !== 'MemberExpression' || n.computed) return false;
  const p = n.property as AnyNode;
  return p.type === 'Identifier' && p.name === 'exports';
}

/** Converts a literal-only expression to its value; `file` names the file in errors. */
export function literalValue(node: AnyNode, file: string): JsonValue {
  const refuse = (why: string): never => {
    throw new UserError(`${file}: refused: the data contains ${why} at offset ${node.start}; only literal values are read`);
  };
  switch (node.type) {
    case 'Literal': {
      const v = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
      return refuse(`a ${node.regex ? 'regular expression' : 'non-JSON'} literal`);
    }
    case 'ArrayExpression':
      return (node.elements as (AnyNode | null)[]).map((e) => (e === null ? refuse('an array hole') : literalValue(e, file)));
    case 'ObjectExpression': {
      const out: { [key: string]: JsonValue } = {};
      for (const p of node.properties as AnyNode[]) {
        if (p.type !== 'Property' || p.kind !== 'init' || p.computed || p.method || p.shorthand)
          refuse(`a ${p.type === 'SpreadElement' ? 'spread' : 'computed, method or shorthand'} property`);
        const key = p.key as AnyNode;
        const name =
          key.type === 'Identifier'
            ? (key.name as string)
            : key.type === 'Literal' && (typeof key.value === 'string' || typeof key.value === 'number')
              ? String(key.value)
              : refuse('an unusual property key');
        if (name === '__proto__') refuse('a __proto__ key');
        out[name] = literalValue(p.value as AnyNode, file);
      }
      return out;
    }
    case 'UnaryExpression': {
      const arg = node.argument as AnyNode;
      const num = arg.type === 'Literal' && typeof arg.value === 'number' ? arg.value : null;
      if (node.operator === '!' && (num === 0 || num === 1)) return num === 0; // minified true / false
      if (node.operator === '-' && num !== null) return -num;
      if (node.operator === 'void' && num !== null) return null; // minified undefined
      return refuse(`the expression ${node.operator}${arg.type}`);
    }
    default:
      return refuse(`a ${node.type}`);
  }
}

/** The value a UMD data file exports: exactly one `*.exports = <object or string literal>`. */
export function readExportedLiteral(source: string, file: string): JsonValue {
  let ast: AnyNode;
  try {
    ast = parse(source, { ecmaVersion: 2020, sourceType: 'script' }) as unknown as AnyNode;
  } catch (e) {
    throw new UserError(`${file}: not parseable JavaScript (${(e as Error).message})`);
  }
  const found: AnyNode[] = [];
  const stack: AnyNode[] = [ast];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.type === 'AssignmentExpression' && n.operator === '=' && isExportsTarget(n.left as AnyNode)) {
      const right = n.right as AnyNode;
      if (right.type === 'ObjectExpression' || right.type === 'Literal') {
        found.push(right);
        continue;
      }
    }
    stack.push(...children(n));
  }
  if (found.length !== 1) throw new UserError(`${file}: expected one \`exports = {...}\` or \`exports = "..."\` data assignment, found ${found.length}`);
  return literalValue(found[0]!, file);
}

// kubectl's -o jsonpath templates: text with {actions} in it, where an action is a JSONPath
// relative to the current object (`{.items[*].name}`), a quoted literal (`{"\n"}`), or
// `{range EXPR}...{end}`, which renders its body once for each match with that match as the
// current object. The JSONPath expressions themselves (wildcards, slices, filters, recursive
// descent) are evaluated by jsonpath-plus (well kept, and run with its safe evaluator: a template
// is user input, so no JavaScript eval); this file only parses kubectl's template layer around
// them, which no maintained package provides.

// a namespace import: the bundle loads it on first use (LAZY_MODULES in scripts/build-bundle.mjs)
import * as jsonpathPlus from 'jsonpath-plus'
import {NodedocError} from '../errors.js'

type Node = {type: 'text'; text: string} | {type: 'expr'; path: string} | {type: 'range'; path: string; body: Node[]}

/** Every value a JSONPath (relative: `.a.b`, `@`, or absolute `$...`) finds in json. */
export function jsonpathValues(json: unknown, expression: string): unknown[] {
  const path = toJsonPath(expression)
  if (path === '$') return [json]
  try {
    return jsonpathPlus.JSONPath({path, json: json as object, wrap: true, eval: 'safe'}) as unknown[]
  } catch (error) {
    throw new NodedocError(`jsonpath ${expression}: ${(error as Error).message.split('\n')[0]}`, 2)
  }
}

function toJsonPath(expression: string): string {
  // kubectl's --sort-by takes '{.metadata.name}' as well as '.metadata.name'
  const e = expression.trim().replace(/^\{(.*)\}$/s, '$1').trim()
  if (e === '' || e === '@' || e === '$') return '$'
  if (e.startsWith('$')) return e
  if (e.startsWith('@')) return '$' + e.slice(1)
  if (e.startsWith('.') || e.startsWith('[')) return '$' + e
  return '$.' + e
}

/** Splits a template into text and {action} pieces; braces inside quotes do not count. */
function lex(template: string): Array<{action: boolean; text: string}> {
  const out: Array<{action: boolean; text: string}> = []
  let i = 0
  let text = ''
  while (i < template.length) {
    if (template[i] !== '{') {
      text += template[i++]
      continue
    }
    if (text) out.push({action: false, text})
    text = ''
    let j = i + 1
    let quote: string | undefined
    let depth = 0
    for (; j < template.length; j++) {
      const c = template[j]
      if (quote) {
        if (c === '\\') j++
        else if (c === quote) quote = undefined
      } else if (c === '"' || c === "'") quote = c
      else if (c === '[') depth++
      else if (c === ']') depth--
      else if (c === '}' && depth <= 0) break
    }
    if (j >= template.length) throw new NodedocError(`jsonpath template: unclosed { at ${i + 1}`, 2)
    out.push({action: true, text: template.slice(i + 1, j).trim()})
    i = j + 1
  }
  if (text) out.push({action: false, text})
  return out
}

function unquote(text: string): string | undefined {
  const m = /^(["'])(.*)\1$/s.exec(text)
  if (!m) return undefined
  return m[2].replace(/\\(.)/g, (_, c: string) => ({n: '\n', t: '\t', r: '\r'})[c] ?? c)
}

function parse(template: string): Node[] {
  const pieces = lex(template.includes('{') ? template : `{${template}}`)
  const root: Node[] = []
  const stack: Node[][] = [root]
  for (const piece of pieces) {
    const top = stack.at(-1)!
    if (!piece.action) {
      top.push({type: 'text', text: piece.text})
      continue
    }
    const literal = unquote(piece.text)
    if (literal !== undefined) top.push({type: 'text', text: literal})
    else if (/^range\s/.test(piece.text)) {
      const node: Node = {type: 'range', path: piece.text.slice(5).trim(), body: []}
      top.push(node)
      stack.push(node.body)
    } else if (piece.text === 'end') {
      if (stack.length === 1) throw new NodedocError('jsonpath template: {end} without {range}', 2)
      stack.pop()
    } else top.push({type: 'expr', path: piece.text})
  }
  if (stack.length > 1) throw new NodedocError('jsonpath template: {range} without {end}', 2)
  return root
}

function print(value: unknown): string {
  if (value === null || value === undefined) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

function render(nodes: Node[], current: unknown): string {
  let out = ''
  for (const node of nodes) {
    if (node.type === 'text') out += node.text
    else if (node.type === 'expr') out += jsonpathValues(current, node.path).map(print).join(' ')
    else for (const item of jsonpathValues(current, node.path)) out += render(node.body, item)
  }
  return out
}

/** A template rendered against a document, as kubectl prints it (no newline added). */
export function jsonpathTemplate(document: unknown, template: string): string {
  return render(parse(template), document)
}

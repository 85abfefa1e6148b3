/**
 * A message template, its API shape, and its placeholder grammar (pure: the request schemas use it too).
 *
 * Grammar. A placeholder is `{{`, optional spaces or tabs, a variable name, optional spaces or tabs, `}}`;
 * a variable name is `[A-Za-z_][A-Za-z0-9_]{0,63}` (case-sensitive). A single `{` or `}` is ordinary text.
 * Every `{{` must open a placeholder and every `}}` must close one: anything else (`{{}}`, `{{first name}}`,
 * `{{{x}}}`, `{{x`, a stray `}}`) makes the template invalid (400 `invalid_template`). There is no escape
 * for a literal `{{`: templates are short messages, and a refusal is better than a silent literal.
 * Rendering is one pass: a value is inserted as it is, never expanded again.
 */
import { InvalidRequestError } from '../errors.js';

export const MAX_TEMPLATE_NAME_CODE_POINTS = 100;
export const MAX_VARIABLE_NAME_LENGTH = 64;

export const PLACEHOLDER_GRAMMAR =
  'A placeholder is {{name}}, with optional spaces or tabs inside the braces ({{ name }}); a name is ' +
  `[A-Za-z_][A-Za-z0-9_]{0,${MAX_VARIABLE_NAME_LENGTH - 1}}, case-sensitive. A single { or } is plain text; ` +
  'every {{ must open a placeholder and every }} close one, or the template is refused (400 invalid_template). ' +
  'Values are inserted verbatim, never expanded again.';

export interface TemplateRecord {
  id: string;
  channelId: string;
  name: string;
  content: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface TemplateView {
  id: string;
  channel_id: string;
  name: string;
  content: string;
  /** Distinct, in order of first appearance. */
  variables: string[];
  created_by: string;
  created_at: string;
  updated_at: string;
}

export type TemplatePart = { text: string } | { variable: string };

export interface ParsedTemplate {
  parts: TemplatePart[];
  /** Distinct, in order of first appearance. */
  variables: string[];
}

/** Matches one whole placeholder where a `{{` was found (sticky: only at lastIndex). */
const PLACEHOLDER = new RegExp(`\\{\\{[ \\t]*([A-Za-z_][A-Za-z0-9_]{0,${MAX_VARIABLE_NAME_LENGTH - 1}})[ \\t]*\\}\\}`, 'y');

function invalid(content: string, at: number, what: string): InvalidRequestError {
  const position = [...content.slice(0, at)].length + 1;
  const excerpt = [...content.slice(at)].slice(0, 24).join('');
  return new InvalidRequestError(`${what} at character ${position} ("${excerpt}"). ${PLACEHOLDER_GRAMMAR}`, 'invalid_template');
}

/** Splits content into text and placeholders; throws 400 `invalid_template` where the grammar is broken. */
export function parseTemplate(content: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  const variables: string[] = [];
  let at = 0;
  for (;;) {
    const open = content.indexOf('{{', at);
    const close = content.indexOf('}}', at);
    if (close !== -1 && (open === -1 || close < open)) throw invalid(content, close, '"}}" closes no placeholder');
    if (open === -1) break;
    PLACEHOLDER.lastIndex = open;
    const match = PLACEHOLDER.exec(content);
    if (!match) throw invalid(content, open, '"{{" opens no valid placeholder');
    if (open > at) parts.push({ text: content.slice(at, open) });
    const variable = match[1]!;
    parts.push({ variable });
    if (!variables.includes(variable)) variables.push(variable);
    at = PLACEHOLDER.lastIndex;
  }
  if (at < content.length) parts.push({ text: content.slice(at) });
  return { parts, variables };
}

/** The variables of content already known to be valid (stored templates were parsed on write). */
export function templateVariables(content: string): string[] {
  return parseTemplate(content).variables;
}

/**
 * Fills every placeholder. Every variable of the template must be given (400 `missing_variable`, naming
 * them all) and nothing else may be (400 `unknown_variable`): an unexpected name is almost always a typo
 * or a template edited under its callers, and the API refuses unknown fields everywhere else too.
 */
export function fillTemplate(parsed: ParsedTemplate, values: Record<string, string>): string {
  const missing = parsed.variables.filter((name) => !Object.hasOwn(values, name) || typeof values[name] !== 'string');
  if (missing.length > 0) {
    throw new InvalidRequestError(`Missing template variable${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`, 'missing_variable');
  }
  const unknown = Object.keys(values).filter((name) => !parsed.variables.includes(name));
  if (unknown.length > 0) {
    throw new InvalidRequestError(
      `Unknown template variable${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (the template uses: ${parsed.variables.join(', ') || 'none'})`,
      'unknown_variable',
    );
  }
  return parsed.parts.map((part) => ('text' in part ? part.text : values[part.variable]!)).join('');
}

export function toTemplateView(template: TemplateRecord): TemplateView {
  return {
    id: template.id,
    channel_id: template.channelId,
    name: template.name,
    content: template.content,
    variables: templateVariables(template.content),
    created_by: template.createdBy,
    created_at: template.createdAt.toISOString(),
    updated_at: template.updatedAt.toISOString(),
  };
}

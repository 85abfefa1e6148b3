import { describe, expect, it } from 'vitest';
import { fillTemplate, parseTemplate } from '../../lib/templates/model.js';

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('template placeholder grammar', () => {
  it('finds the distinct variables in order of first appearance, spaces and tabs allowed inside the braces', () => {
    expect(parseTemplate('Hi {{name}}, {{ day }} is {{\tname\t}} day; {{_x9}}').variables).toEqual(['name', 'day', '_x9']);
    expect(parseTemplate('no placeholders, { single } braces are text').variables).toEqual([]);
    expect(parseTemplate(`{{${'a'.repeat(64)}}}`).variables).toEqual(['a'.repeat(64)]);
  });

  it.each([
    ['{{}}'],
    ['{{ }}'],
    ['{{first name}}'],
    ['{{9lives}}'],
    ['{{a-b}}'],
    ['{{{x}}}'],
    ['{{x'],
    ['x}}'],
    ['a }} b {{c}}'],
    ['{{\nx}}'],
    ['{{ä}}'],
    [`{{${'a'.repeat(65)}}}`],
  ])('refuses %j with invalid_template', (content) => {
    expect(codeOf(() => parseTemplate(content))).toBe('invalid_template');
  });

  it('names the place of the error', () => {
    expect(() => parseTemplate('Dear 😀 {{bad name}}')).toThrow(/character 8 \("\{\{bad name\}\}"\)/);
  });

  it('fills placeholders in one pass, values verbatim', () => {
    const parsed = parseTemplate('{{a}}+{{ b }}={{a}}{{b}}');
    expect(fillTemplate(parsed, { a: '{{b}}', b: '$&' })).toBe('{{b}}+$&={{b}}$&');
  });

  it('refuses missing variables by name, then unknown ones', () => {
    const parsed = parseTemplate('{{a}} {{b}} {{constructor}}');
    expect(() => fillTemplate(parsed, { a: '1' })).toThrow(/Missing template variables: b, constructor/);
    expect(codeOf(() => fillTemplate(parsed, { a: '1' }))).toBe('missing_variable');
    expect(codeOf(() => fillTemplate(parsed, { a: '1', b: '2', constructor: '3', c: '4' }))).toBe('unknown_variable');
    expect(fillTemplate(parsed, { a: '1', b: '', constructor: '3' })).toBe('1  3');
  });
});

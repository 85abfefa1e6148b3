/** What counts as a reaction: exactly one emoji (one grapheme), or a custom `:name:` of 1–32 characters. */
const CUSTOM = /^:[A-Za-z0-9_+-]{1,32}:$/;
const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3)/u;
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

export function isValidReaction(value: string): boolean {
  if (CUSTOM.test(value)) return true;
  if (value.length > 64 || /\p{Cc}/u.test(value)) return false;
  const graphemes = [...segmenter.segment(value)];
  return graphemes.length === 1 && EMOJI.test(value);
}

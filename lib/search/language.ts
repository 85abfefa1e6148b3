/**
 * Picks the PostgreSQL text-search configuration a message is stemmed with, from the script its letters are
 * written in. A query is parsed in each message's own configuration (see index-store.ts).
 */
export const SEARCH_CONFIGS = ['english', 'russian', 'greek', 'arabic', 'simple'] as const;
export type SearchConfig = (typeof SEARCH_CONFIGS)[number];

const SCRIPTS: [RegExp, SearchConfig][] = [
  [/\p{Script=Cyrillic}/gu, 'russian'],
  [/\p{Script=Greek}/gu, 'greek'],
  [/\p{Script=Arabic}/gu, 'arabic'],
  [/\p{Script=Latin}/gu, 'english'],
];

export function detectSearchConfig(text: string): SearchConfig {
  let best: SearchConfig = 'simple';
  let bestCount = 0;
  for (const [pattern, config] of SCRIPTS) {
    const count = text.match(pattern)?.length ?? 0;
    if (count > bestCount) {
      best = config;
      bestCount = count;
    }
  }
  return best;
}

/**
 * Escaping for everything the reports write into Markdown (pull-request comments, `report
 * --format markdown`) or HTML (`report --format html`): names come from users.yaml and from the
 * live systems (a role created in Dataverse by anyone), so they are text, never markup.
 *
 * - Invisible characters (C1 controls, zero-width, bidirectional overrides and isolates; see
 *   src/model/diagnostics.ts `INVISIBLE`) become a visible `\uXXXX`, so a name cannot reorder
 *   or hide the text around it in a reviewer's browser.
 * - Markdown: the characters that open inline markup are backslash-escaped: `*`, `~`, code
 *   spans, table pipes and the backslash always; `_` unless inside a word (CommonMark never
 *   reads an intraword `_` as emphasis, so `DYN365_FINANCE` stays readable); `]` before `(`,
 *   `[` or `:` (the only ways a bracket starts a link, an image or a definition here),
 *   raw HTML and autolinks are impossible (`<` `>` become entities, which GitHub renders as
 *   text), an `&` that would start an entity is written `&amp;`, and line breaks become spaces,
 *   so a value stays inside its table cell. https://spec.commonmark.org/0.31.2/#backslash-escapes
 * - HTML: the five characters with a meaning in text and in quoted attributes become entities.
 */
import { neutralize } from "../model/diagnostics.ts";

/** Text for a Markdown paragraph or table cell. */
export function markdownText(text: string): string {
  return neutralize(text)
    .replace(/[\\`*|~]|\](?=[([:])|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, (c) => `\\${c}`)
    .replace(/<|>|&(?=#?\w+;)/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"))
    .replace(/\s*[\r\n]+\s*/g, " ");
}

const HTML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text for HTML element content or a quoted attribute value. */
export function htmlText(text: string): string {
  return neutralize(text).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

/**
 * What `up` will do to one object, as a reviewer reads it in the preview (issue 12 items 1–3):
 * each system's pure `describe.ts` turns its plan into a {@link Change}; this module only
 * renders it, one line, the same way for every system, so the preview, the PR comment and the
 * tests all read the same words. Names no system.
 */

/** What happens to the object as a whole. */
export type Verb = "adopts" | "creates" | "updates" | "removes";

/** What `up` will do to one object of one system. */
export interface Change {
  verb: Verb;
  /** The object in the system's words, e.g. `F&O user adele.vance in contoso-demo`. */
  object: string;
  /**
   * Each change, one set element or flag per entry, in the order `up` applies them
   * (`revoke role X`, `grant role Y [USMF]`, `disable the account`). Empty: nothing changes.
   */
  changes: string[];
  /** What stays as it is although a reviewer might expect otherwise (`left as found: adopted`). */
  notes?: string[];
}

/**
 * One line: `adopts F&O user x: revoke role A; grant role B [USMF]`, or `adopts F&O user x
 * unchanged` when nothing changes; notes follow in parentheses.
 */
export function renderChange(change: Change): string {
  const what = change.changes.length
    ? `${change.verb} ${change.object}: ${change.changes.join("; ")}`
    : `${change.verb} ${change.object} unchanged`;
  const notes = change.notes?.length ? ` (${change.notes.join("; ")})` : "";
  return `${what}${notes}`;
}

/** `name [A, B]`, or the name alone without legal entities (or other qualifiers). */
export function qualified(name: string, within: readonly string[]): string {
  return within.length ? `${name} [${within.join(", ")}]` : name;
}

/**
 * The engine's output as `d365-access` shows it: streamed as it comes, except its errors. The
 * engine prints each error on the resource's progress line and again under "Diagnostics:" (an
 * inline program's error even twice more: once logged, once as the run's result); a provider
 * error that many users share (F&O answering 401) comes once per user. Here every error is
 * taken out of the stream and collected, and {@link errorSummary} prints them once at the end,
 * one line each, the same cause across users grouped into one line. Warnings and everything else
 * pass through unchanged. `--verbose` shows the engine's output as it is.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences of a colored display.
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const plain = (line: string): string => line.replace(ANSI, "");

/** An error the engine reported, with the resource it concerns (`<type> (<name>)`), if any. */
export interface EngineError {
  resource: string | undefined;
  /** The message without stack-trace lines; several lines only when the error lists problems. */
  message: string;
}

/** A line-buffered filter of the engine's output. */
export interface EngineOutput {
  /** A chunk of the engine's output, as the Automation API's `onOutput` hands it over. */
  write(chunk: string): void;
  /** Flushes what is buffered (call when the operation has finished, successfully or not). */
  end(): void;
  /** The errors taken out of the stream so far, in order. */
  readonly errors: EngineError[];
}

interface Entry {
  kind: string;
  /** The lines as printed. */
  lines: string[];
  /** The first line's text after `error: `. */
  text: string;
}
interface Block {
  header: string;
  resource: string;
  entries: Entry[];
}

/** A progress line carrying an error: `<op>  <type> <name> <status> error: <message>`. */
const PROGRESS_ERROR = /^\s*(?:[-+~<>=*]+\s+)?(\S+:\S+)\s+(\S+)\s.*?\berror: (.*)$/;
const HEADER = /^ {2}(\S.*) \((.*)\):$/;
const ENTRY = /^ {4}(error|warning|info|debug)(?:\*\*)?: ?(.*)$/;

/** The message of an error entry: no stack frames, no "Unhandled exception: Error:" prefix. */
function messageOf(lines: string[]): string {
  const kept = lines.filter((line) => !/^\s+at\s/.test(line)).map((line) => line.replace(/^ {4,8}/, ""));
  const first = (kept[0] ?? "")
    .replace(/^Unhandled exception:\s*/, "")
    .replace(/^(?:[A-Z]\w*Error|Error):\s+/, "");
  return [first, ...kept.slice(1)].join("\n").trimEnd();
}

/** Creates the filter; `out` receives what is shown. With `verbose`, everything passes. */
export function engineOutput(out: (text: string) => void, options: { verbose?: boolean } = {}): EngineOutput {
  const errors: EngineError[] = [];
  const progressErrors: EngineError[] = [];
  let pending = "";
  let diagnostics: Block[] | undefined;

  const flushDiagnostics = () => {
    if (!diagnostics) return;
    const kept: string[] = [];
    for (const block of diagnostics) {
      const entries = block.entries.filter((entry) => {
        if (entry.kind !== "error") return true;
        const lines = [entry.text, ...entry.lines.slice(1).map(plain)];
        errors.push({ resource: block.resource || undefined, message: messageOf(lines) });
        return false;
      });
      if (entries.length === 0) continue;
      kept.push(block.header, ...entries.flatMap((e) => e.lines), "");
    }
    // The section ends with a blank line before the next one; kept even when the section is not.
    out(kept.length ? `Diagnostics:\n${kept.join("\n")}\n` : "\n");
    diagnostics = undefined;
  };

  const line = (raw: string) => {
    const text = plain(raw);
    if (diagnostics) {
      if (text.trim() === "") return;
      if (!/^\s/.test(text)) {
        flushDiagnostics();
      } else {
        const header = HEADER.exec(text);
        const entry = ENTRY.exec(text);
        if (header) diagnostics.push({ header: raw, resource: `${header[1]} (${header[2]})`, entries: [] });
        else {
          let block = diagnostics.at(-1);
          if (!block) {
            block = { header: "", resource: "", entries: [] };
            diagnostics.push(block);
          }
          if (entry) block.entries.push({ kind: entry[1] ?? "error", lines: [raw], text: entry[2] ?? "" });
          // The engine prints info messages without a prefix: the first line under a header starts one.
          else if (block.entries.length === 0)
            block.entries.push({ kind: "info", lines: [raw], text: text.trim() });
          else block.entries.at(-1)?.lines.push(raw);
        }
        return;
      }
    }
    if (text === "Diagnostics:") {
      diagnostics = [];
      return;
    }
    const progress = PROGRESS_ERROR.exec(text);
    if (progress) {
      progressErrors.push({
        resource: `${progress[1]} (${progress[2]})`,
        message: messageOf([progress[3] ?? ""]),
      });
      return;
    }
    out(`${raw}\n`);
  };

  return {
    errors,
    write(chunk) {
      if (options.verbose) {
        out(chunk);
        return;
      }
      pending += chunk;
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        line(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
      // The engine draws "@ previewing update...." a dot at a time: show it as it grows.
      if (pending.startsWith("@") && !diagnostics) {
        out(pending);
        pending = "";
      }
    },
    end() {
      if (pending) line(pending);
      pending = "";
      flushDiagnostics();
      // Without a Diagnostics section (the engine stopped early), the progress lines are all we have.
      if (errors.length === 0) errors.push(...progressErrors);
    },
  };
}

/** The engine's generic closing errors, said only when nothing more specific was. */
const GENERIC =
  /^(?:update failed|preview failed|refresh failed|destroy failed|One or more errors occurred.*)$/;

/** `<type> <user>[ in environment "<env>"]: <rest>`: a provider error line (providers/core/provider.ts). */
const SUBJECT = /^(\S+:\S+) (\S+)( in environment "[^"]*")?: ([\s\S]*)$/;

/** A list of names, the first few and a count of the rest. */
function names(list: string[], shown = 3): string {
  return list.length <= shown
    ? list.join(", ")
    : `${list.slice(0, shown).join(", ")} and ${list.length - shown} more`;
}

/**
 * One line per distinct error (a multi-line error keeps its listed problems): duplicates
 * dropped, the engine's generic "update failed" dropped when something says why, and errors of
 * the same cause across users grouped as `6 users (a, b, c and 3 more): fno:User in environment
 * "x": fno 401 …` (request ids differ per call; the first is kept).
 */
export function errorSummary(errors: EngineError[]): string[] {
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    const key = e.message.trim();
    if (key === "" || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const specific = unique.filter((e) => !GENERIC.test(e.message));
  const list = specific.length ? specific : unique;
  const groups = new Map<string, { users: string[]; prefix: string; first: string }>();
  const lines: (string | { key: string })[] = [];
  for (const e of list) {
    const m = SUBJECT.exec(e.message);
    if (!m) {
      lines.push(e.message);
      continue;
    }
    const [, type, user, env = "", rest = ""] = m;
    const key = `${type}${env}: ${rest.replace(/\s*\(request-id [^)]*\)/, "")}`;
    const group = groups.get(key);
    if (group) group.users.push(user ?? "?");
    else {
      groups.set(key, { users: [user ?? "?"], prefix: `${type}${env}`, first: e.message });
      lines.push({ key });
    }
  }
  return lines.map((entry) => {
    if (typeof entry === "string") return entry;
    const group = groups.get(entry.key);
    if (!group) return "";
    if (group.users.length === 1) return group.first;
    const rest = SUBJECT.exec(group.first)?.[4] ?? "";
    return `${group.users.length} users (${names(group.users)}): ${group.prefix}: ${rest}`;
  });
}

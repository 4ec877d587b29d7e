/**
 * `export`, the pure part: what each system read (its registry entry's `export.read`) becomes
 * one users.yaml: people with their parts in every system, personas inferred where several
 * people hold exactly the same bundle, the environments, and the comments that say what is
 * left undeclared and why. No I/O; names no system (the registry entries say where their
 * grants go).
 *
 * The one rule behind every choice: what the file declares is what the systems hold now, so
 * the first `up` after an export writes nothing. Where one users.yaml value would have to
 * describe two systems that disagree (a user enabled in F&O but disabled in Entra, an F&O
 * UserName that is not the Entra display name), the disagreeing part is left out, in a comment
 * naming the difference, and counted as an inconsistency.
 */
import type { ExportedPart, ExportedSystem } from "../../providers/core/system.ts";

/** A system as export sees it. */
export interface ExportSystem {
  name: string;
  label: string;
  scope: "tenant" | "environment";
  /** The user and persona field its grants go in. */
  grants: string;
}

/** What one system read, in one environment (undefined for the identity system). */
export interface SystemRead {
  system: ExportSystem;
  environment?: string;
  read: ExportedSystem;
}

/** One exported user: its users.yaml mapping and the comments above it. */
export interface ExportedUser {
  upn: string;
  body: Record<string, unknown>;
  comments: string[];
  /** Split keys (`company`, `department`, …) → value. */
  attributes: Record<string, string>;
}

/** A persona inferred from a shared bundle. */
export interface ExportedPersona {
  name: string;
  body: Record<string, unknown>;
  users: number;
}

/** The whole export, ready to render. */
export interface ExportResult {
  top: Record<string, unknown>;
  environments: Record<string, Record<string, unknown>>;
  defaults: Record<string, unknown>;
  personas: ExportedPersona[];
  users: ExportedUser[];
  /** Accounts left out on purpose, one comment line each. */
  skipped: string[];
  summary: {
    /** System label → users declared there. */
    users: Record<string, number>;
    personas: number;
    /** People whose parts disagree (left out in part), and people missing from some system. */
    inconsistencies: number;
    missing: number;
  };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const lower = (s: string) => s.toLowerCase();

/** A persona name from readable words: lower case, `_` between words, at most 48 characters. */
export function slug(words: readonly string[]): string {
  const text = words
    .join(" and ")
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  const cut = text.length > 48 ? text.slice(0, 48).replace(/_[^_]*$/, "") : text;
  return cut || "persona";
}

/**
 * A persona's name from its words (role labels, licenses; the most specific first): the first
 * one that most other personas do not share (a role in every bundle names nothing), else its
 * first word; with a second word, then a number, when taken.
 */
export function personaName(
  words: readonly string[],
  all: readonly (readonly string[])[],
  taken: ReadonlySet<string>,
): string {
  const share = (w: string) => all.filter((ws) => ws.some((x) => lower(x) === lower(w))).length;
  const distinctive = words.filter((w) => all.length < 3 || share(w) <= all.length / 2);
  const pick = distinctive.length ? distinctive : words;
  const candidates = [slug(pick.slice(0, 1)), slug(pick.slice(0, 2)), slug(words.slice(0, 3))];
  let name = candidates.find((c) => !taken.has(c)) ?? (candidates[0] as string);
  const base = name;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  return name;
}

/** Options of {@link buildExport}. */
export interface BuildOptions {
  /** The stack's environments, in order. */
  environments: string[];
  /** Which people to export (UPN test); default everyone. */
  include?: (upn: string) => boolean;
  /** Fewest people that must share a bundle for a persona. Default 2. */
  minPersonaUsers?: number;
}

interface Person {
  objectId: string;
  identity: ExportedPart;
  /** Declared parts of per-environment systems: `system\nenvironment` → part. */
  parts: Map<string, ExportedPart>;
  comments: string[];
  inconsistent: boolean;
  missing: boolean;
}

const key = (system: string, environment: string) => `${system}\n${environment}`;

/** Builds the export from the systems' reads (identity system first). */
export function buildExport(reads: readonly SystemRead[], options: BuildOptions): ExportResult {
  const identityRead = reads.find((r) => r.system.scope === "tenant");
  if (!identityRead) throw new Error("export needs the identity system's read");
  const identitySystem = identityRead.system;
  const envSystems = [
    ...new Map(
      reads.filter((r) => r.system.scope === "environment").map((r) => [r.system.name, r.system]),
    ).values(),
  ];
  const present = (system: string, environment: string) =>
    reads.some((r) => r.system.name === system && r.environment === environment && r.read.environment);
  const include = options.include ?? (() => true);

  const people: Person[] = [];
  for (const [objectId, identity] of identityRead.read.parts) {
    const upn = String(identity.fields.upn);
    if (!include(upn)) continue;
    const person: Person = {
      objectId,
      identity,
      parts: new Map(),
      comments: [],
      inconsistent: false,
      missing: false,
    };
    let footprint = identity.footprint;
    person.comments.push(...identity.notes.map((n) => `${identitySystem.label}: ${n}`));
    for (const r of reads) {
      if (r.system.scope !== "environment" || r.environment === undefined) continue;
      const where = `${r.system.label} (${r.environment})`;
      const part = r.read.parts.get(objectId);
      if (!part) continue;
      footprint = true;
      person.comments.push(...part.notes.map((n) => `${where}: ${n}`));
      if (!part.declare) {
        if (part.notes.length === 0) person.comments.push(`${where}: present, nothing users.yaml would own`);
        continue;
      }
      const conflict = Object.entries(part.shared).find(
        ([k, v]) => k in identity.shared && JSON.stringify(identity.shared[k]) !== JSON.stringify(v),
      );
      if (conflict) {
        const [field, value] = conflict;
        person.inconsistent = true;
        person.comments.push(
          `${where} left out: its ${field} is ${JSON.stringify(value)}, ${identitySystem.label}'s ${JSON.stringify(identity.shared[field])}; users.yaml has one ${field} for both, so declaring it would change one of them (left as found: ${JSON.stringify(partBody(r.system, part))})`,
        );
        continue;
      }
      person.parts.set(key(r.system.name, r.environment), part);
    }
    if (!footprint) continue;
    for (const s of envSystems) {
      for (const environment of options.environments) {
        if (!present(s.name, environment)) continue;
        const read = reads.find((r) => r.system.name === s.name && r.environment === environment);
        if (read?.read.parts.has(objectId)) continue;
        person.missing = true;
        person.comments.push(`not in ${s.label} (${environment})`);
      }
    }
    people.push(person);
  }
  people.sort((a, b) => byText(lower(String(a.identity.fields.upn)), lower(String(b.identity.fields.upn))));

  const environments: Record<string, Record<string, unknown>> = {};
  for (const environment of options.environments) {
    const env: Record<string, unknown> = {};
    for (const s of envSystems) {
      const read = reads.find((r) => r.system.name === s.name && r.environment === environment);
      Object.assign(env, read?.read.environment ?? { [s.name]: false });
    }
    environments[environment] = env;
  }

  // Environments: every user's own (where it has a declared part); the most common set is the default.
  const envsOf = (p: Person) =>
    [...new Set([...p.parts.keys()].map((k) => k.split("\n")[1] as string))].sort(byText);
  const envSets = new Map<string, number>();
  for (const p of people) {
    const k = JSON.stringify(envsOf(p));
    if (envsOf(p).length) envSets.set(k, (envSets.get(k) ?? 0) + 1);
  }
  const defaultEnvs: string[] = JSON.parse(
    [...envSets].sort((a, b) => b[1] - a[1] || byText(a[0], b[0]))[0]?.[0] ?? "[]",
  );

  // Personas: people whose whole bundle is the same, in every environment they are in.
  const bundleOf = (p: Person): string | undefined => {
    const envs = envsOf(p);
    const bundle: Record<string, unknown> = { [identitySystem.name]: p.identity.grants };
    for (const s of envSystems) {
      const withSystem = envs.filter((e) => present(s.name, e));
      const held = withSystem.map((e) => p.parts.get(key(s.name, e)));
      const grants = held.map((h) => JSON.stringify(h?.grants ?? []));
      if (grants.some((g) => g !== grants[0])) return undefined;
      if (held.some((h) => h === undefined) && grants[0] !== "[]") return undefined;
      bundle[s.name] = JSON.parse(grants[0] ?? "[]");
    }
    return Object.values(bundle).some((g) => (g as unknown[]).length > 0)
      ? JSON.stringify(bundle)
      : undefined;
  };
  const groups = new Map<string, Person[]>();
  for (const p of people) {
    const b = bundleOf(p);
    if (b) groups.set(b, [...(groups.get(b) ?? []), p]);
  }
  const personas: ExportedPersona[] = [];
  const personaOf = new Map<Person, string>();
  const shared = [...groups]
    .filter(([, members]) => members.length >= (options.minPersonaUsers ?? 2))
    .sort((a, b) => b[1].length - a[1].length || byText(a[0], b[0]));
  // Each persona's words, the most specific system first (the last in registry order).
  const wordsOf = shared.map(([bundle, members]) => {
    const grants = JSON.parse(bundle) as Record<string, unknown[]>;
    const first = members[0] as Person;
    return [identitySystem, ...envSystems]
      .reverse()
      .filter((s) => (grants[s.name] ?? []).length > 0)
      .flatMap((s) =>
        s.scope === "tenant"
          ? first.identity.labels
          : ([...first.parts].find(([k]) => k.startsWith(`${s.name}\n`))?.[1].labels ?? []),
      );
  });
  const taken = new Set<string>();
  shared.forEach(([bundle, members], i) => {
    const names = personaName(wordsOf[i] ?? [], wordsOf, taken);
    taken.add(names);
    const grants = JSON.parse(bundle) as Record<string, unknown[]>;
    const body: Record<string, unknown> = {
      description: `Inferred by export: ${members.length} users hold exactly this`,
    };
    if ((grants[identitySystem.name] ?? []).length) body[identitySystem.grants] = grants[identitySystem.name];
    for (const s of envSystems)
      if ((grants[s.name] ?? []).length) body[s.name] = { [s.grants]: grants[s.name] };
    personas.push({ name: names, body, users: members.length });
    for (const m of members) personaOf.set(m, names);
  });
  personas.sort((a, b) => byText(a.name, b.name));

  const counts: Record<string, number> = { [identitySystem.label]: people.length };
  for (const s of envSystems) counts[s.label] = 0;
  const users: ExportedUser[] = people.map((p) => {
    const persona = personaOf.get(p);
    const body: Record<string, unknown> = { ...p.identity.fields };
    if (persona) body.personas = [persona];
    else if (p.identity.grants.length) body[identitySystem.grants] = p.identity.grants;
    const envs = envsOf(p);
    if (envs.length && JSON.stringify(envs) !== JSON.stringify(defaultEnvs)) body.environments = envs;
    const attributes: Record<string, string> = { ...p.identity.attributes };
    for (const s of envSystems) {
      const perEnv: Record<string, unknown> = {};
      for (const environment of options.environments) {
        const part = p.parts.get(key(s.name, environment));
        if (!part) continue;
        for (const [k, v] of Object.entries(part.attributes)) attributes[k] ??= v;
        // A persona granting this system's roles brings the entry; only own fields stay.
        const covered = persona && part.grants.length > 0;
        if (covered && Object.keys(part.fields).length === 0) continue;
        perEnv[environment] = covered ? { ...part.fields } : partBody(s, part);
      }
      if (Object.keys(perEnv).length) body[s.name] = perEnv;
      if (envs.some((e) => p.parts.has(key(s.name, e)))) counts[s.label] = (counts[s.label] ?? 0) + 1;
    }
    return { upn: String(p.identity.fields.upn), body, comments: p.comments, attributes };
  });

  const skipped = reads.flatMap((r) =>
    r.read.skipped.map((s) => `${r.system.label}${r.environment ? ` (${r.environment})` : ""} ${s}`),
  );
  const domains = [...new Set(users.map((u) => lower(u.upn.split("@")[1] ?? "")))]
    .filter(Boolean)
    .sort(byText);
  const top: Record<string, unknown> = domains.length ? { domains } : {};
  for (const r of reads) Object.assign(top, r.read.topLevel ?? {});
  return {
    top,
    environments,
    defaults: defaultEnvs.length ? { environments: defaultEnvs } : {},
    personas,
    users,
    skipped: [...new Set(skipped)].sort(byText),
    summary: {
      users: counts,
      personas: personas.length,
      inconsistencies: people.filter((p) => p.inconsistent).length,
      missing: people.filter((p) => p.missing).length,
    },
  };
}

/** A part as users.yaml writes it under `<system>.<environment>`: its fields and its grants. */
function partBody(system: ExportSystem, part: ExportedPart): Record<string, unknown> {
  return { ...part.fields, ...(part.grants.length ? { [system.grants]: part.grants } : {}) };
}

/**
 * The access matrix: users × systems and environments, built from the desired state (and, for
 * `report --live`, compared with what the systems hold). Pure: rendering lives in render.ts.
 */
import { type RegisteredSystem, SYSTEMS } from "../../providers/registry.ts";
import type { DesiredState, DesiredUser } from "../model/desired.ts";

/** One column of the matrix: a system, in an environment for per-environment systems. */
export interface MatrixColumn {
  key: string;
  /** The system's name (its registry entry). */
  system: string;
  environment?: string;
  title: string;
}

/** What one user holds (or should hold) in one column: a sorted list of short entries. */
export type MatrixCell = string[];

/** A cell's differences between declared and live access (report --live). */
export interface CellDrift {
  /** Declared but not held live. */
  missing: string[];
  /** Held live (and granted by us or unmanaged) but not declared. */
  extra: string[];
}

export interface MatrixRow {
  upn: string;
  displayName: string;
  enabled: boolean;
  personas: string[];
  cells: Record<string, MatrixCell>;
  drift?: Record<string, CellDrift>;
}

export interface AccessMatrix {
  columns: MatrixColumn[];
  rows: MatrixRow[];
}

/** Columns in a stable order: the tenant-wide systems, then per environment each system it has (registry order). */
export function matrixColumns(state: DesiredState): MatrixColumn[] {
  const columns: MatrixColumn[] = [];
  for (const system of SYSTEMS) {
    if (system.scope === "tenant")
      columns.push({ key: system.name, system: system.name, title: system.report.title() });
  }
  for (const env of state.environments) {
    for (const system of SYSTEMS) {
      if (system.scope !== "environment" || !system.inEnvironment(env)) continue;
      columns.push({
        key: `${system.name}/${env.name}`,
        system: system.name,
        environment: env.name,
        title: system.report.title(env.name),
      });
    }
  }
  return columns;
}

/** The system of a column. */
export function columnSystem(column: MatrixColumn): RegisteredSystem {
  const system = SYSTEMS.find((s) => s.name === column.system);
  if (!system) throw new Error(`no registered system "${column.system}"`);
  return system;
}

/** The declared entries of one user in one column. */
export function declaredCell(user: DesiredUser, column: MatrixColumn): MatrixCell {
  return columnSystem(column).report.cell(user, column.environment);
}

/** The matrix of declared access. */
export function desiredMatrix(state: DesiredState): AccessMatrix {
  const columns = matrixColumns(state);
  const rows = state.users.map((user) => ({
    upn: user.upn,
    displayName: user.displayName,
    enabled: user.enabled,
    personas: user.personas,
    cells: Object.fromEntries(columns.map((c) => [c.key, declaredCell(user, c)])),
  }));
  return { columns, rows };
}

/** Compares declared and live entries case-insensitively; both lists keep their own spelling. */
export function cellDrift(declared: MatrixCell, live: MatrixCell): CellDrift {
  const has = (list: MatrixCell, item: string) => list.some((x) => x.toLowerCase() === item.toLowerCase());
  return { missing: declared.filter((d) => !has(live, d)), extra: live.filter((l) => !has(declared, l)) };
}

/** Adds live drift to a desired matrix; `live` maps upn (lower case) → column key → entries. */
export function withDrift(matrix: AccessMatrix, live: Map<string, Record<string, MatrixCell>>): AccessMatrix {
  return {
    columns: matrix.columns,
    rows: matrix.rows.map((row) => {
      const held = live.get(row.upn.toLowerCase()) ?? {};
      const drift = Object.fromEntries(
        matrix.columns.map((c) => [c.key, cellDrift(row.cells[c.key] ?? [], held[c.key] ?? [])]),
      );
      return { ...row, drift };
    }),
  };
}

/** The matrix as `upn → column title → entries`, omitting empty cells (for stack outputs). */
export function accessByUser(matrix: AccessMatrix): Record<string, Record<string, string[]>> {
  return Object.fromEntries(
    matrix.rows.map((row) => [
      row.upn,
      Object.fromEntries(
        matrix.columns
          .filter((c) => (row.cells[c.key] ?? []).length > 0)
          .map((c) => [c.title, row.cells[c.key] ?? []]),
      ),
    ]),
  );
}

/** The warning for one privileged outsider (`report --live`, preview, PR comment). */
export function privilegedWarning(line: string): string {
  return `${line}, and users.yaml does not declare them: review this access (declare them, or revoke it)`;
}

/** The Markdown section listing privileged outsiders, after the matrix. */
export function privilegedSection(lines: readonly string[]): string {
  return `\n**Privileged access outside users.yaml** (${lines.length}):\n\n${lines.map((l) => `- ⚠ ${l}`).join("\n")}\n`;
}

/**
 * End-to-end harness: a throw-away copy of the project wired to a sandbox of its own, driven
 * through the `d365-access` CLI (Automation API + the real pulumi binary), and read back
 * through the sandbox's Microsoft APIs with tokens from @azure/identity. It imports nothing
 * from providers/: what the tests assert is what Graph, Dataverse and F&O answer.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FaultUpdate, StartSandboxOptions } from "../../sandbox/index.ts";
import { startTestSandbox, type TestSandbox } from "../sandbox/helpers.ts";
import { copyProject } from "../support/project.ts";

/** Commands that take no --stack (they read no stack). */
const NO_STACK = ["validate"];

/** The commands that run the engine (and take --color). */
const ENGINE_COMMANDS = ["preview", "up", "refresh", "destroy"];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr, for messages. */
  output: string;
}

/** A resource step the engine printed: `+ fno:User bob@x/env create`. */
export interface Step {
  op: string;
  type: string;
  name: string;
}

export interface E2EProject {
  dir: string;
  sandbox: TestSandbox;
  /** Runs `d365-access <args>` in the project (stack sandbox; engine commands without colors), with `env` added. */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Runs `d365-access <args>` exactly as given (no stack or color added), with `env` added. */
  exec(args: string[], env?: Record<string, string>): Promise<CliResult>;
  usersYaml(): string;
  writeUsersYaml(text: string): void;
  /** The live view of one user across the three systems, through the APIs. */
  live(upn: string): Promise<LiveUser>;
  close(): Promise<void>;
}

export interface LiveUser {
  entra?: { id: string; accountEnabled: boolean; directLicenses: string[] };
  dataverse?: { isdisabled: boolean; businessUnit: string; roles: string[] };
  fno?: {
    userId: string;
    enabled: boolean;
    /** Every role an Enabled row gives, Manual or rule-based. */
    roles: string[];
    /** The roles an Enabled rule-based (Automatic) row gives: the rules', not ours. */
    ruleRoles: string[];
    legalEntities: Record<string, string[]>;
  };
}

/** Resource steps a preview printed, sorted, as `<op> <system>:<name>` (e.g. `update fno:bob@x/env`). */
export function steps(output: string): string[] {
  const found = new Set<string>();
  const re =
    /^\s*(?:\+|~|-|\+-|-\+)\s+pulumi-nodejs:dynamic\/(\w+):User\s+(\S+)\s+(create|update|delete|replace)(?:\s+\[diff: [^\]]*\])?\s*$/gm;
  for (const m of output.matchAll(re)) found.add(`${m[3]} ${m[1]}:${m[2]}`);
  return [...found].sort();
}

/**
 * How long one CLI run may take before the harness kills it: 4 minutes for tests; benchmarks of
 * hundreds of users set D365_ACCESS_E2E_CLI_TIMEOUT_MS (bench/faults.ts, bench/crash.ts).
 */
const cliTimeoutMs = () => Number(process.env.D365_ACCESS_E2E_CLI_TIMEOUT_MS) || 240_000;

/**
 * Copies the project's runnable parts into a temp dir and points its sandbox stack at `sandbox`
 * (seeded with `seed`, e.g. `"lived-in"`; default the sandbox's).
 */
export async function createProject(
  options: {
    faults?: FaultUpdate;
    seed?: StartSandboxOptions["seed"];
    /** Receives the sandbox's log lines (default: dropped). */
    log?: (line: string) => void;
  } = {},
): Promise<E2EProject> {
  const sandbox = await startTestSandbox({
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.seed ? { seed: options.seed } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const dir = mkdtempSync(path.join(tmpdir(), "d365-e2e-"));
  copyProject(dir, ["users.yaml", "schemas", "stacks"]);
  mkdirSync(path.join(dir, ".sandbox"));
  // The sandbox stack reads .sandbox/endpoints.json, as after `d365-access sandbox start`.
  cpSync(path.join(sandbox.sandbox.stateDir, "endpoints.json"), path.join(dir, ".sandbox", "endpoints.json"));

  const graph = sandbox.endpoints.graphUrl;
  const env = sandbox.endpoints.environments[0];
  if (!env) throw new Error("the sandbox has no environment");
  const get = async (url: string, scope: string) => {
    const res = await sandbox.call(url, { token: await sandbox.token(scope) });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.text}`);
    return res.body as Record<string, unknown> & { value?: Record<string, unknown>[] };
  };
  const graphScope = `${graph}/.default`;
  const dvScope = `${env.dataverseUrl}/.default`;
  const fnoScope = `${env.fnoUrl}/.default`;

  const exec = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const childEnv: Record<string, string | undefined> = { ...process.env };
    delete childEnv.D365_ACCESS_ROOT;
    delete childEnv.PULUMI_BACKEND_URL;
    delete childEnv.PULUMI_CONFIG_PASSPHRASE;
    delete childEnv.NODE_TEST_CONTEXT; // the CLI is not a test file
    delete childEnv.D365_ACCESS_OVERRIDE_GUARDS;
    Object.assign(childEnv, env);
    return new Promise((resolve) => {
      execFile(
        path.join(dir, "bin", "d365-access"),
        args,
        { cwd: dir, env: childEnv, timeout: cliTimeoutMs(), maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as { code?: unknown }).code === "number"
              ? (err as { code: number }).code
              : 1
            : 0;
          resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
        },
      );
    });
  };

  return {
    dir,
    sandbox,
    cli(args, env = {}) {
      return exec(
        [
          ...args,
          ...(NO_STACK.includes(args[0] ?? "") ? [] : ["--stack", "sandbox"]),
          ...(ENGINE_COMMANDS.includes(args[0] ?? "") ? ["--color", "never"] : []),
        ],
        env,
      );
    },
    exec,
    usersYaml: () => readFileSync(path.join(dir, "users.yaml"), "utf8"),
    writeUsersYaml: (text) => writeFileSync(path.join(dir, "users.yaml"), text),
    async live(upn) {
      const result: LiveUser = {};
      const skus = ((await get(`${graph}/v1.0/subscribedSkus`, graphScope))?.value ?? []) as {
        skuId: string;
        skuPartNumber: string;
      }[];
      const user = (await get(
        `${graph}/v1.0/users/${encodeURIComponent(upn)}?$select=id,accountEnabled,licenseAssignmentStates`,
        graphScope,
      )) as
        | {
            id: string;
            accountEnabled: boolean;
            licenseAssignmentStates?: { skuId: string; assignedByGroup: string | null }[];
          }
        | undefined;
      if (!user) return result;
      result.entra = {
        id: user.id,
        accountEnabled: user.accountEnabled,
        directLicenses: (user.licenseAssignmentStates ?? [])
          .filter((s) => !s.assignedByGroup)
          .map((s) => skus.find((k) => k.skuId === s.skuId)?.skuPartNumber ?? s.skuId)
          .sort(),
      };
      const api = `${env.dataverseUrl}/api/data/v9.2`;
      const dv = (
        await get(
          `${api}/systemusers?$select=isdisabled,_businessunitid_value&$filter=azureactivedirectoryobjectid eq ${user.id}&$expand=systemuserroles_association($select=name)`,
          dvScope,
        )
      )?.value?.[0] as
        | {
            isdisabled: boolean;
            _businessunitid_value: string;
            systemuserroles_association: { name: string }[];
          }
        | undefined;
      if (dv) {
        const unit = (await get(
          `${api}/businessunits(${dv._businessunitid_value})?$select=name`,
          dvScope,
        )) as { name: string };
        result.dataverse = {
          isdisabled: dv.isdisabled,
          businessUnit: unit.name,
          roles: dv.systemuserroles_association.map((r) => r.name).sort(),
        };
      }
      const quoted = `'${upn.replace(/'/g, "''")}'`;
      const fnoUser = (await get(`${env.fnoUrl}/data/SystemUsers?$filter=Alias eq ${quoted}`, fnoScope))
        ?.value?.[0] as { UserID: string; Enabled: boolean } | undefined;
      if (fnoUser) {
        const id = `'${fnoUser.UserID.replace(/'/g, "''")}'`;
        const roles = ((await get(`${env.fnoUrl}/data/SecurityUserRoles?$filter=UserId eq ${id}`, fnoScope))
          ?.value ?? []) as {
          SecurityRoleIdentifier: string;
          AssignmentStatus: string;
          AssignmentMode?: string;
        }[];
        const orgs = ((
          await get(`${env.fnoUrl}/data/SecurityUserRoleOrganizations?$filter=UserId eq ${id}`, fnoScope)
        )?.value ?? []) as { SecurityRoleIdentifier: string; OrganizationId: string }[];
        const legalEntities: Record<string, string[]> = {};
        for (const o of orgs) {
          const list = legalEntities[o.SecurityRoleIdentifier] ?? [];
          list.push(o.OrganizationId.toUpperCase());
          legalEntities[o.SecurityRoleIdentifier] = list;
        }
        for (const list of Object.values(legalEntities)) list.sort();
        const enabled = roles.filter((r) => r.AssignmentStatus.endsWith("Enabled"));
        result.fno = {
          userId: fnoUser.UserID,
          enabled: fnoUser.Enabled,
          roles: enabled.map((r) => r.SecurityRoleIdentifier).sort(),
          ruleRoles: enabled
            .filter((r) => r.AssignmentMode === "Automatic")
            .map((r) => r.SecurityRoleIdentifier)
            .sort(),
          legalEntities,
        };
      }
      return result;
    },
    async close() {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

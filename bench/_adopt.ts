/**
 * The adopting users.yaml of bench/perf.ts: what `d365-access export` is to produce for a tenant
 * in use, written here from the sandbox's tenant through its APIs (Graph, Dataverse, F&O) until
 * that command lands. Every person with Dynamics access is adopted exactly as found: the direct
 * licenses of the Dynamics SKUs (with their disabled plans), the direct Dataverse roles of their
 * business unit, the manual enabled F&O roles with their legal entities, so the first `up` of
 * it should write nothing. Adopted: the tenant's generated people (sandbox/core/population.ts),
 * the hand-written ones holding Microsoft's preconfigured accounts and other cases an export
 * leaves to a person; left out as well: guests, disabled Dataverse rows, and F&O accounts whose
 * enabled state differs from Entra's.
 */
import { LIVED_IN_PEOPLE } from "../sandbox/core/lived-in.ts";
import type { TestSandbox } from "../test/sandbox/helpers.ts";
import { benchDocument, type GeneratedUser } from "./_engine.ts";

/** The SKUs the adopting file manages (those of Dynamics 365 in the tenant). */
const DYNAMICS_SKUS = ["DYN365_FINANCE", "DYN365_ENTERPRISE_TEAM_MEMBERS", "Dyn365_Operations_Activity"];

type Row = Record<string, unknown>;

/** Every row of a paged OData/Graph collection. */
async function all(sandbox: TestSandbox, url: string, scope: string): Promise<Row[]> {
  const token = await sandbox.token(scope);
  const rows: Row[] = [];
  let next: string | undefined = url;
  while (next) {
    const res = await sandbox.call(next, { token });
    if (res.status !== 200) throw new Error(`GET ${next}: ${res.status} ${res.text.slice(0, 300)}`);
    const body = res.body as { value: Row[]; "@odata.nextLink"?: string };
    rows.push(...body.value);
    next = body["@odata.nextLink"];
  }
  return rows;
}

const lower = (s: unknown) => String(s ?? "").toLowerCase();

/** The adopting users.yaml document for environment `env`, and the users it adopts. */
export async function adoptionDocument(
  sandbox: TestSandbox,
  env: string,
): Promise<{ doc: Record<string, unknown>; users: GeneratedUser[] }> {
  const { graphUrl } = sandbox.endpoints;
  const environment = sandbox.endpoints.environments.find((e) => e.name === env);
  if (!environment) throw new Error(`no environment ${env}`);
  const graphScope = `${graphUrl}/.default`;
  const dvScope = `${environment.dataverseUrl}/.default`;
  const fnoScope = `${environment.fnoUrl}/.default`;
  const api = `${environment.dataverseUrl}/api/data/v9.2`;

  const [skus, people, units, dvUsers, fnoUsers, fnoRoles, fnoOrgs] = await Promise.all([
    all(sandbox, `${graphUrl}/v1.0/subscribedSkus`, graphScope),
    all(
      sandbox,
      `${graphUrl}/v1.0/users?$select=id,userPrincipalName,displayName,usageLocation,accountEnabled,assignedLicenses,licenseAssignmentStates&$top=999`,
      graphScope,
    ),
    all(sandbox, `${api}/businessunits?$select=businessunitid,name,_parentbusinessunitid_value`, dvScope),
    all(
      sandbox,
      `${api}/systemusers?$select=azureactivedirectoryobjectid,isdisabled,_businessunitid_value&$filter=applicationid eq null&$expand=systemuserroles_association($select=name,_businessunitid_value)`,
      dvScope,
    ),
    all(sandbox, `${environment.fnoUrl}/data/SystemUsers?cross-company=true`, fnoScope),
    all(sandbox, `${environment.fnoUrl}/data/SecurityUserRoles?cross-company=true`, fnoScope),
    all(sandbox, `${environment.fnoUrl}/data/SecurityUserRoleOrganizations?cross-company=true`, fnoScope),
  ]);

  const managed = DYNAMICS_SKUS.filter((p) => skus.some((s) => s.skuPartNumber === p));
  const skuById = new Map(skus.map((s) => [lower(s.skuId), s]));
  const planName = (sku: Row, planId: unknown) =>
    String(
      (sku.servicePlans as Row[] | undefined)?.find((p) => lower(p.servicePlanId) === lower(planId))
        ?.servicePlanName ?? planId,
    );
  const unitName = new Map(units.map((u) => [lower(u.businessunitid), String(u.name)]));
  const root = units.find((u) => u._parentbusinessunitid_value === null);
  const dvByObject = new Map(dvUsers.map((u) => [lower(u.azureactivedirectoryobjectid), u]));
  const fnoByAlias = new Map(fnoUsers.map((u) => [lower(u.Alias), u]));
  const legalEntities = new Set(["USMF", "DEMF", "GBSI", "USRT"]);
  const byUserId = (rows: Row[]) => {
    const map = new Map<string, Row[]>();
    for (const r of rows) map.set(lower(r.UserId), [...(map.get(lower(r.UserId)) ?? []), r]);
    return map;
  };
  const rolesOf = byUserId(fnoRoles);
  const orgsOf = byUserId(fnoOrgs);

  const handWritten = new Set(LIVED_IN_PEOPLE.map((p) => lower(p.alias)));
  const users: GeneratedUser[] = [];
  for (const p of people) {
    const upn = String(p.userPrincipalName);
    if (upn.includes("#EXT#") || handWritten.has(lower(upn.split("@")[0]))) continue;
    const enabled = p.accountEnabled !== false;
    const direct = new Set(
      ((p.licenseAssignmentStates as Row[] | undefined) ?? [])
        .filter((s) => !s.assignedByGroup)
        .map((s) => lower(s.skuId)),
    );
    const licenses = ((p.assignedLicenses as Row[] | undefined) ?? [])
      .filter((l) => direct.has(lower(l.skuId)))
      .map((l) => ({ sku: skuById.get(lower(l.skuId)), disabled: (l.disabledPlans as unknown[]) ?? [] }))
      .filter((l) => l.sku && managed.includes(String(l.sku.skuPartNumber)))
      .map((l) => {
        const sku = l.sku as Row;
        const disabledPlans = l.disabled.map((id) => planName(sku, id)).sort();
        return disabledPlans.length
          ? { sku: String(sku.skuPartNumber), disabledPlans }
          : String(sku.skuPartNumber);
      });

    const user: GeneratedUser & { licenses?: unknown[] } = {
      upn,
      displayName: String(p.displayName),
      usageLocation: String(p.usageLocation ?? "US") || "US",
      enabled,
      personas: [],
    };
    if (licenses.length) user.licenses = licenses as string[];

    const dv = dvByObject.get(lower(p.id));
    if (dv && !dv.isdisabled) {
      const unit = lower(dv._businessunitid_value);
      const roles = ((dv.systemuserroles_association as Row[] | undefined) ?? [])
        .filter((r) => lower(r._businessunitid_value) === unit)
        .map((r) => String(r.name))
        .sort();
      user.dataverse = {
        [env]: {
          ...(unit === lower(root?.businessunitid) ? {} : { businessUnit: unitName.get(unit) ?? unit }),
          roles,
        },
      };
    }

    const f = fnoByAlias.get(lower(upn));
    if (f && (f.Enabled !== false) === enabled && String(f.AccountType ?? "ClaimsUser") === "ClaimsUser") {
      const id = lower(f.UserID);
      const roles = (rolesOf.get(id) ?? [])
        .filter(
          (r) =>
            r.AssignmentMode === "Manual" &&
            r.AssignmentStatus === "Enabled" &&
            lower(r.SecurityRoleIdentifier) !== "systemuser",
        )
        .map((r) => {
          const entities = (orgsOf.get(id) ?? [])
            .filter(
              (o) =>
                lower(o.SecurityRoleIdentifier) === lower(r.SecurityRoleIdentifier) &&
                lower(o.OrganizationType).endsWith("legalentity"),
            )
            .map((o) => String(o.OrganizationId).toUpperCase())
            .sort();
          for (const e of entities) legalEntities.add(e);
          return { role: String(r.SecurityRoleIdentifier), legalEntities: entities };
        });
      legalEntities.add(String(f.Company).toUpperCase());
      user.fno = { [env]: { userId: String(f.UserID), company: String(f.Company).toUpperCase(), roles } };
    }
    if (user.licenses || user.dataverse || user.fno) users.push(user);
  }

  const domains = [...new Set(users.map((u) => u.upn.split("@")[1] as string))].sort();
  const base = benchDocument(domains[0] ?? "contoso.example", env, users.length);
  const environments = base.environments as Record<string, Record<string, unknown>>;
  (environments[env] as Record<string, unknown>).legalEntities = [...legalEntities].sort();
  const doc = {
    ...base,
    domains,
    managedLicenses: managed,
    defaults: { usageLocation: "US", manage: "adopt", onRemove: "disable", environments: [] },
    users,
  };
  return { doc, users };
}

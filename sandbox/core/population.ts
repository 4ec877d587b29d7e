/**
 * Generated people for large lived-in tenants (benchmarks, scale tests): N more people with the
 * same variety as the hand-written ones of lived-in.ts, derived only from a seed number, so the
 * same (N, seed) always gives the same tenant. Fast enough for tens of thousands of people.
 */
import { stableGuid } from "./ids.ts";
import { GUEST_DOMAIN, LIVED_IN_PEOPLE, type LivedInPerson } from "./lived-in.ts";
import type { SeedOptions } from "./types.ts";

/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN = [
  "Aaron",
  "Amara",
  "Ben",
  "Bianca",
  "Carlos",
  "Chen",
  "Dana",
  "Dmitri",
  "Elif",
  "Emma",
  "Farid",
  "Fiona",
  "Gabriel",
  "Hana",
  "Ivan",
  "Ines",
  "Jonas",
  "Julia",
  "Kenji",
  "Karin",
  "Liam",
  "Lucia",
  "Mateo",
  "Mei",
  "Nadia",
  "Noah",
  "Olga",
  "Omar",
  "Paula",
  "Priya",
  "Quentin",
  "Rosa",
  "Sven",
  "Sofia",
  "Tomas",
  "Tara",
  "Umar",
  "Vera",
  "Wei",
  "Yara",
];
const SURNAMES = [
  "Abbott",
  "Berg",
  "Castro",
  "Dubois",
  "Eriksen",
  "Fischer",
  "Garcia",
  "Hansen",
  "Ibrahim",
  "Jensen",
  "Kowalski",
  "Larsen",
  "Moreau",
  "Nakamura",
  "Novak",
  "Olsen",
  "Petrov",
  "Quinn",
  "Rossi",
  "Schmidt",
  "Tanaka",
  "Ueda",
  "Vogel",
  "Weber",
  "Xu",
  "Yilmaz",
  "Zimmer",
  "Andersen",
  "Brooks",
  "Costa",
];

/** A kind of person, with how often it occurs and what it holds in each system. */
interface Archetype {
  weight: number;
  build(base: Omit<LivedInPerson, "entra">, n: number): LivedInPerson;
}

/** Legal entities of generated F&O users, with the matching usage location. */
const COMPANIES = [
  { company: "USMF", country: "US" },
  { company: "DEMF", country: "DE" },
  { company: "GBSI", country: "GB" },
];

const ARCHETYPES: Archetype[] = [
  // Microsoft 365 only: most of a tenant never touches Dynamics.
  { weight: 30, build: (p) => ({ ...p, entra: { licenses: ["SPE_E3"] } }) },
  {
    weight: 8,
    build: (p) => ({ ...p, entra: { licenses: ["SPE_E5"] } }),
  },
  // Finance users held directly, with Microsoft 365 besides.
  {
    weight: 20,
    build: (p) => ({
      ...p,
      entra: { licenses: ["SPE_E5", "DYN365_FINANCE"] },
      fno: {
        userId: fnoId(p),
        company: "USMF",
        roles: [{ role: "SYSTEMUSER" }, { role: "LEDGERACCOUNTANT" }],
      },
    }),
  },
  // Team Members through the licensing group.
  {
    weight: 12,
    build: (p) => ({
      ...p,
      entra: { licenses: ["ENTERPRISEPACK"], groups: ["D365 Team Members (group-based licensing)"] },
      fno: { userId: fnoId(p), company: "DEMF", roles: [{ role: "SYSTEMUSER" }, { role: "HCMEMPLOYEE" }] },
    }),
  },
  // Finance through the licensing group (every 10th of them in error: no seat for them).
  {
    weight: 8,
    build: (p, n) => ({
      ...p,
      entra: {
        licenses: ["SPE_E3"],
        groups: ["D365 Finance (group-based licensing)"],
        ...(n % 10 === 0
          ? { groupErrors: { "D365 Finance (group-based licensing)": "CountViolation" as const } }
          : {}),
      },
    }),
  },
  // Synced from on-premises, Finance in Germany, a role restricted to DEMF.
  {
    weight: 6,
    build: (p) => ({
      ...p,
      usageLocation: "DE",
      entra: { licenses: ["ENTERPRISEPACK", "DYN365_FINANCE"], onPremises: true },
      fno: {
        userId: fnoId(p),
        company: "DEMF",
        roles: [{ role: "SYSTEMUSER" }, { role: "TRADEBUYINGAGENT", legalEntities: ["DEMF"] }],
      },
    }),
  },
  // Guests with a Team Members licence.
  {
    weight: 3,
    build: (p) => ({ ...p, entra: { licenses: ["DYN365_ENTERPRISE_TEAM_MEMBERS"], guestOf: GUEST_DOMAIN } }),
  },
  // Left the company: disabled in Entra, still licensed, disabled in Dataverse with roles.
  {
    weight: 5,
    build: (p) => ({
      ...p,
      entra: { accountEnabled: false, licenses: ["DYN365_FINANCE"] },
      dataverse: {
        roles: ["Finance and Operations Basic User", "Environment Maker", "Basic User"],
        disabled: true,
      },
      fno: {
        userId: fnoId(p),
        company: "USMF",
        roles: [{ role: "SYSTEMUSER" }, { role: "LEDGERACCOUNTANT" }],
      },
    }),
  },
  // European finance in the child business unit, restricted to GBSI.
  {
    weight: 5,
    build: (p) => ({
      ...p,
      usageLocation: "GB",
      entra: { licenses: ["SPE_E5", "DYN365_FINANCE"] },
      dataverse: { businessUnit: "Contoso Europe", roles: ["Basic User", "Contoso Finance Reader"] },
      fno: {
        userId: fnoId(p),
        company: "GBSI",
        roles: [{ role: "SYSTEMUSER" }, { role: "LEDGERACCOUNTINGMANAGER", legalEntities: ["GBSI"] }],
      },
    }),
  },
  // Finance users excluded from the employee rule, and with a hand-granted Dataverse role.
  {
    weight: 3,
    build: (p) => ({
      ...p,
      entra: { licenses: ["ENTERPRISEPACK", "DYN365_FINANCE"] },
      dataverse: { roles: ["Finance and Operations Basic User", "Environment Maker", "System Customizer"] },
      fno: {
        userId: fnoId(p),
        company: "USMF",
        roles: [{ role: "SYSTEMUSER" }, { role: "HCMEMPLOYEE", status: "Disabled" }],
        referencedBy: "VendInvoiceJour",
      },
    }),
  },
];

/** A unique F&O UserID of at most 20 characters (the UserInfo.ID limit): `<g><surname>.<n>`. */
function fnoId(p: { givenName: string; surname: string; alias: string }): string {
  const n = p.alias.slice(p.alias.lastIndexOf(".") + 1);
  return `${`${p.givenName[0]}${p.surname}`.toLowerCase().slice(0, 12)}.${n}`;
}

/**
 * `count` generated people, deterministic in `seedNumber`. Aliases are unique (`<given>.<surname>.<n>`)
 * and never collide with the hand-written people or the demo's own new users.
 */
export function generatePeople(count: number, seedNumber = 1): LivedInPerson[] {
  const random = seededRandom(seedNumber);
  const total = ARCHETYPES.reduce((sum, a) => sum + a.weight, 0);
  const people: LivedInPerson[] = [];
  for (let n = 1; n <= count; n++) {
    const given = GIVEN[Math.floor(random() * GIVEN.length)] as string;
    const surname = SURNAMES[Math.floor(random() * SURNAMES.length)] as string;
    const where = COMPANIES[Math.floor(random() * COMPANIES.length)] ?? COMPANIES[0];
    let pick = random() * total;
    let archetype = ARCHETYPES[0] as Archetype;
    for (const candidate of ARCHETYPES) {
      pick -= candidate.weight;
      archetype = candidate;
      if (pick < 0) break;
    }
    const alias = `${given}.${surname}.${n}`.toLowerCase();
    people.push(
      archetype.build(
        {
          id: stableGuid("lived-in", String(seedNumber), String(n)),
          alias,
          givenName: given,
          surname,
          jobTitle: "Employee",
          usageLocation: where?.country ?? "US",
        },
        n,
      ),
    );
  }
  return people;
}

const cache = new Map<string, LivedInPerson[]>();

/** Everyone in the lived-in tenant for `seed`: the hand-written people, then the generated ones. */
export function livedInPeople(seed: SeedOptions): LivedInPerson[] {
  const count = seed.generatedUsers ?? 0;
  const key = `${count}:${seed.seedNumber ?? 1}`;
  let people = cache.get(key);
  if (!people) {
    people = [...LIVED_IN_PEOPLE, ...generatePeople(count, seed.seedNumber ?? 1)];
    if (cache.size > 8) cache.clear();
    cache.set(key, people);
  }
  return people;
}

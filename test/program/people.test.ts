/**
 * The program's view of the people users.yaml declares (src/program/people.ts): object ids
 * from the tenant's bulk read, renames found from the last deployment, provenance of a user a
 * killed run created, and what stops the run before any write.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DesiredState, DesiredUser } from "../../src/model/index.ts";
import { userResourceName } from "../../src/program/index.ts";
import {
  type FoundUser,
  findPeople,
  identitiesOfDeployment,
  identitiesOfOutput,
  NO_IDENTITIES,
} from "../../src/program/people.ts";

const A = "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a01";
const B = "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a02";
const ENTRA = "pulumi-nodejs:dynamic/entra:User";
const urn = (name: string, type = ENTRA) => `urn:pulumi:prod::d365-access::${type}::${name}`;

function user(upn: string, over: Partial<DesiredUser> = {}): DesiredUser {
  return {
    upn,
    displayName: upn.split("@")[0] ?? upn,
    usageLocation: "US",
    enabled: true,
    manage: "adopt",
    onRemove: "disable",
    personas: [],
    licenses: [],
    managedLicenses: [],
    dataverse: [],
    fno: [],
    source: { file: "users.yaml", line: 3, col: 5 },
    ...over,
  };
}
const state = (users: DesiredUser[]) => ({ users }) as DesiredState;
function found(upn: string, objectId: string, over: Partial<FoundUser> = {}): [string, FoundUser] {
  return [
    upn.toLowerCase(),
    {
      objectId,
      upn,
      displayName: upn.split("@")[0] ?? upn,
      usageLocation: "US",
      enabled: true,
      directLicenses: [],
      inheritedSkus: [],
      ...over,
    },
  ];
}

describe("identitiesOfDeployment", () => {
  it("maps object ids to the identity resources' names, and lists pending creates without an object id", () => {
    const last = identitiesOfDeployment({
      resources: [
        { urn: urn("ada@x.example"), type: ENTRA, outputs: { objectId: A.toUpperCase() } },
        {
          urn: urn("ada@x.example/prod", "pulumi-nodejs:dynamic/fno:User"),
          type: "pulumi-nodejs:dynamic/fno:User",
          outputs: { objectId: A },
        },
      ],
      pending_operations: [
        {
          type: "creating",
          resource: { urn: urn("new@x.example"), type: ENTRA, inputs: { upn: "new@x.example" } },
        },
        { type: "creating", resource: { urn: urn("old@x.example"), type: ENTRA, inputs: { objectId: B } } },
        { type: "updating", resource: { urn: urn("upd@x.example"), type: ENTRA, inputs: {} } },
      ],
    });
    assert.deepEqual([...last.names], [[A, "ada@x.example"]]);
    assert.deepEqual([...last.pendingCreates], ["new@x.example"]);
    assert.deepEqual(
      identitiesOfOutput({ [A]: "ada@x.example", bad: 3 }).names,
      new Map([[A, "ada@x.example"]]),
    );
    assert.deepEqual(identitiesOfDeployment(undefined), NO_IDENTITIES);
  });
});

describe("findPeople", () => {
  it("finds a renamed person by object id and declares the rename", () => {
    const people = findPeople(
      state([user("ada.king@x.example")]),
      new Map([found("ada.king@x.example", A)]),
      identitiesOfOutput({ [A]: "ada.lovelace@x.example" }),
      userResourceName,
    );
    assert.deepEqual(people.problems, []);
    assert.deepEqual([...people.renames], [["ada.lovelace@x.example", "ada.king@x.example"]]);
    assert.deepEqual(people.byUpn.get("ada.king@x.example"), {
      objectId: A,
      provenance: "adopted",
      previousName: "ada.lovelace@x.example",
    });
  });

  it("stops when Entra renamed a person and users.yaml still has the old UPN, or a user to adopt is missing", () => {
    const people = findPeople(
      state([
        user("ada.lovelace@x.example"),
        user("nobody@x.example"),
        user("new@x.example", { manage: "create" }),
      ]),
      new Map([found("ada.king@x.example", A)]),
      identitiesOfOutput({ [A]: "ada.lovelace@x.example" }),
      userResourceName,
    );
    assert.deepEqual(people.problems, [
      `users.yaml:3:5: Entra user ada.lovelace@x.example was renamed to ada.king@x.example (object id ${A}): write the new UPN in users.yaml; the person keeps their access (an update, not a replacement)`,
      "users.yaml:3:5: Entra user nobody@x.example does not exist: fix the UPN, or set manage: create to create it",
    ]);
    assert.deepEqual(people.byUpn.get("new@x.example"), {}, "to be created");
  });

  it("refuses a rename whose old name is declared again for someone else", () => {
    const people = findPeople(
      state([user("ada.king@x.example"), user("ada.lovelace@x.example")]),
      new Map([found("ada.king@x.example", A), found("ada.lovelace@x.example", B)]),
      identitiesOfOutput({ [A]: "ada.lovelace@x.example" }),
      userResourceName,
    );
    assert.equal(people.renames.size, 0);
    assert.match(
      people.problems[0] ?? "",
      /was managed as ada\.lovelace@x\.example, which users\.yaml declares again/,
    );
  });

  it("records a user a killed run created as created, and every other found user as adopted", () => {
    const people = findPeople(
      state([user("new@x.example", { manage: "create" }), user("ada@x.example")]),
      new Map([found("new@x.example", B), found("ada@x.example", A)]),
      { names: new Map(), pendingCreates: new Set(["new@x.example"]) },
      userResourceName,
    );
    assert.equal(people.byUpn.get("new@x.example")?.provenance, "created");
    assert.equal(people.byUpn.get("ada@x.example")?.provenance, "adopted");
  });

  it("reports what on-premises AD masters and users.yaml writes differently, without stopping", () => {
    const people = findPeople(
      state([user("jo@x.example", { displayName: "Jo L." })]),
      new Map([found("jo@x.example", A, { displayName: "Johanna Lorenz", onPremisesSync: true })]),
      NO_IDENTITIES,
      userResourceName,
    );
    assert.deepEqual(people.problems, []);
    assert.match(
      people.warnings[0] ?? "",
      /^Entra user jo@x\.example is synced from on-premises Active Directory.*"Johanna Lorenz"/,
    );
  });
});

/**
 * Issue 17 item 5: a program that creates its people with `@pulumi/azuread` chains
 * `user.objectId` into the `UserAccess` component exported by the package entry
 * (`import … from "d365-access/components"`), whose Dataverse and F&O resources (and Entra licenses, when
 * asked) receive that object id and are the component's children; the project's own program
 * declares its users through the same building block, at the stack's root. Run with Pulumi's
 * mocks (`pulumi.runtime.setMocks`): the azuread provider plugin cannot run here, its SDK can
 * (`@pulumi/azuread`, no plugin download at install).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { repo } from "../support/project.ts";

const OBJECT_ID = "5b1c7e0a-3f6d-4c2b-9a8e-1d2f3a4b5c6d";
const registered: pulumi.runtime.MockResourceArgs[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push(args);
      // azuread.User: Entra assigns the object id.
      if (args.type === "azuread:index/user:User")
        return { id: OBJECT_ID, state: { ...args.inputs, objectId: OBJECT_ID } };
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: (args) => args.inputs,
  },
  "d365-access",
  "test",
  false,
);

// Through the package's own name: package.json `exports` "./components".
const { UserAccess, declareUsers } = await import("d365-access/components");
const { loadDesiredState } = await import("../../src/model/index.ts");

const value = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));
const inputsOf = (type: string, name: string) => {
  const found = registered.find((r) => r.type === type && r.name === name);
  assert.ok(
    found,
    `${type} ${name} was not declared; declared: ${registered.map((r) => `${r.type} ${r.name}`).join(", ")}`,
  );
  return found.inputs as Record<string, unknown>;
};

test("azuread.User's objectId flows into the Dataverse and F&O resources of UserAccess", async () => {
  const user = new azuread.User("ann", {
    userPrincipalName: "ann@contoso.example",
    displayName: "Ann Example",
    password: "not-used-by-mocks-1!",
  });
  const access = new UserAccess("ann@contoso.example", {
    objectId: user.objectId,
    upn: "ann@contoso.example",
    displayName: "Ann Example",
    dataverse: [{ environment: "contoso-prod", roles: ["Basic User"] }],
    fno: [
      {
        environment: "contoso-prod",
        company: "usmf",
        roles: [{ role: "VENDINVOICEACCOUNTSPAYABLECLERK", legalEntities: ["usmf"] }],
      },
    ],
  });
  assert.equal(await value(access.objectId), OBJECT_ID);
  const [dv] = access.resources.dataverse ?? [];
  const [fno] = access.resources.fno ?? [];
  assert.ok(dv && fno);
  await Promise.all([value(dv.urn), value(fno.urn)]);

  const dvInputs = inputsOf("pulumi-nodejs:dynamic/dataverse:User", "ann@contoso.example/contoso-prod");
  assert.equal(dvInputs.objectId, OBJECT_ID);
  assert.deepEqual(dvInputs.roles, ["Basic User"]);
  const fnoInputs = inputsOf("pulumi-nodejs:dynamic/fno:User", "ann@contoso.example/contoso-prod");
  assert.equal(fnoInputs.objectId, OBJECT_ID);
  assert.equal(fnoInputs.company, "USMF");
  assert.deepEqual(fnoInputs.roles, [{ role: "VENDINVOICEACCOUNTSPAYABLECLERK", legalEntities: ["USMF"] }]);
  assert.equal(fnoInputs.userId, "ann");

  // Children of the component; no entra:User: the identity is azuread's to manage.
  assert.equal(
    await value(fno.urn),
    "urn:pulumi:test::d365-access::d365-access:index:UserAccess$pulumi-nodejs:dynamic/fno:User::ann@contoso.example/contoso-prod",
  );
  assert.equal(access.resources.entra, undefined);
  assert.ok(
    !registered.some((r) => r.type === "pulumi-nodejs:dynamic/entra:User" && r.name.startsWith("ann@")),
  );
});

test("with licenses, UserAccess adopts the person by that object id in an entra:User", async () => {
  const user = new azuread.User("bea", { userPrincipalName: "bea@contoso.example", displayName: "Bea" });
  const access = new UserAccess("bea@contoso.example", {
    objectId: user.objectId,
    upn: "bea@contoso.example",
    displayName: "Bea",
    entra: { usageLocation: "FR", licenses: [{ sku: "DYN365_FINANCE" }] },
  });
  const [entra] = access.resources.entra ?? [];
  assert.ok(entra);
  await value(entra.urn);
  const inputs = inputsOf("pulumi-nodejs:dynamic/entra:User", "bea@contoso.example");
  assert.equal(inputs.objectId, OBJECT_ID);
  assert.equal(inputs.manage, "adopt");
  assert.deepEqual(inputs.licenses, [{ sku: "DYN365_FINANCE", disabledPlans: [] }]);
  assert.deepEqual(inputs.managedLicenses, ["DYN365_FINANCE"]);
});

test("the project's program declares users.yaml through the same building block, at the stack's root", async () => {
  const { state } = loadDesiredState([path.join(repo, "users.yaml")], { cwd: repo });
  assert.ok(state);
  const { declared } = declareUsers(state);
  const [first] = declared.fno ?? [];
  assert.ok(first);
  assert.match(
    await value(first.urn),
    /^urn:pulumi:test::d365-access::pulumi-nodejs:dynamic\/fno:User::[^$]+$/,
  );
  assert.equal(declared.entra?.length, state.users.length);
});

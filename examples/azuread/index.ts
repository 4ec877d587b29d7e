/**
 * Example: a team creates its people with `@pulumi/azuread` and gives them Dynamics 365 access
 * with d365-access's `UserAccess` component, chaining each `azuread.User`'s `objectId` into it.
 * Pulumi orders the writes: the Entra user first, then its Dataverse and F&O users.
 *
 * The stack needs d365-access's config (tenant, credentials, environments) as
 * stacks/Pulumi.example.yaml shows, plus the azuread provider's own (`azuread:tenantId`, …).
 */
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { UserAccess } from "d365-access/components";

const config = new pulumi.Config();
const domain = config.get("domain") ?? "contoso.com";

const people = [
  {
    alias: "ann.lee",
    displayName: "Ann Lee",
    dataverse: [{ environment: "contoso-prod", roles: ["Basic User"] }],
    fno: [
      {
        environment: "contoso-prod",
        company: "USMF",
        roles: [{ role: "VENDINVOICEACCOUNTSPAYABLECLERK", legalEntities: ["USMF"] }],
      },
    ],
  },
];

export const objectIds: Record<string, pulumi.Output<string>> = {};
for (const person of people) {
  const upn = `${person.alias}@${domain}`;
  const user = new azuread.User(person.alias, {
    userPrincipalName: upn,
    displayName: person.displayName,
    mailNickname: person.alias,
    // A first password the person must change; a real program takes it from a secret.
    password: config.requireSecret("initialPassword"),
    forcePasswordChange: true,
  });
  new UserAccess(upn, {
    objectId: user.objectId,
    upn,
    displayName: person.displayName,
    dataverse: person.dataverse,
    fno: person.fno,
  });
  objectIds[upn] = user.objectId;
}

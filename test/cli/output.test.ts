/**
 * The end-of-run error summary (src/cli/output.ts): each error once, and the same cause across
 * users one line naming how many and who.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { engineOutput, errorSummary } from "../../src/cli/output.ts";

const fno401 = (user: string, id: string) => ({
  resource: `fno:User ${user}`,
  message: `fno:User ${user} in environment "prod": fno 401 on GET /data/SecurityRoles: Unauthorized (request-id ${id}). Hint: register the app.`,
});

test("the same cause across users is one line naming how many and the first few", () => {
  const errors = [
    fno401("ann@x.example", "1"),
    fno401("bob@x.example", "2"),
    fno401("cy@x.example", "3"),
    fno401("dee@x.example", "4"),
    { resource: undefined, message: "update failed" },
  ];
  assert.deepEqual(errorSummary(errors), [
    '4 users (ann@x.example, bob@x.example, cy@x.example and 1 more): fno:User in environment "prod": fno 401 on GET /data/SecurityRoles: Unauthorized (request-id 1). Hint: register the app.',
  ]);
});

test("different causes stay separate lines, and a repeated error is printed once", () => {
  const other = {
    resource: "entra:User ann@x.example",
    message:
      "entra:User ann@x.example: entra 400 Request_BadRequest on POST /v1.0/users: bad (request-id 9).",
  };
  assert.deepEqual(errorSummary([fno401("ann@x.example", "1"), other, other]), [
    fno401("ann@x.example", "1").message,
    other.message,
  ]);
});

test("info messages under a resource (printed without a prefix) stay in Diagnostics", () => {
  const shown: string[] = [];
  const output = engineOutput((t) => shown.push(t));
  output.write(
    "Diagnostics:\n  pulumi-nodejs:dynamic/entra:User (ann@x.example):\n    adopts Entra user ann@x.example unchanged\n\n",
  );
  output.end();
  assert.match(
    shown.join(""),
    /entra:User \(ann@x\.example\):\n {4}adopts Entra user ann@x\.example unchanged/,
  );
  assert.deepEqual(output.errors, []);
});

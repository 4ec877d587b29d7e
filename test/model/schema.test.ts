/**
 * The users.yaml schema editors load is one static file composed from the core and the
 * systems' parts: it must be exactly what `npm run schema` writes, and compile in Ajv's strict
 * mode with its one custom keyword declared.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { UPN_PATTERN } from "../../providers/core/user.ts";
import { SYSTEMS } from "../../providers/registry.ts";
import { composeUsersSchema, USERS_SCHEMA_URL } from "../../src/model/schemaParts.ts";

const committed = JSON.parse(readFileSync(USERS_SCHEMA_URL, "utf8")) as Record<string, unknown>;
const composed = composeUsersSchema();

describe("schemas/users.schema.json", () => {
  it("is what `npm run schema` composes from the core and the systems' parts (run it after editing a part)", () => {
    // Stringified, so key order counts too: editors show properties in this order.
    assert.equal(JSON.stringify(committed), JSON.stringify(composed));
  });

  it("compiles in Ajv strict mode, with x-error declared", () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    ajv.addKeyword({ keyword: "x-error", schemaType: "string" });
    assert.doesNotThrow(() => ajv.compile(composed));
    assert.throws(() => new Ajv2020({ strict: true }).compile(composed), /unknown keyword: "x-error"/);
  });

  it("carries each system's keys and the one UPN rule", () => {
    const defs = composed.$defs as Record<string, { properties?: Record<string, unknown>; pattern?: string }>;
    assert.equal(defs.upn?.pattern, UPN_PATTERN);
    for (const system of SYSTEMS) {
      const part = JSON.parse(readFileSync(system.usersYaml, "utf8")) as {
        $defs?: Record<string, unknown>;
        properties?: Record<string, Record<string, unknown>>;
      };
      for (const name of Object.keys(part.$defs ?? {}))
        assert.ok(name in defs, `${system.name}: $defs.${name}`);
      for (const [target, keys] of Object.entries(part.properties ?? {})) {
        const into =
          target === "file" ? (composed.properties as Record<string, unknown>) : defs[target]?.properties;
        for (const key of Object.keys(keys)) assert.ok(key in (into ?? {}), `${target}.${key}`);
      }
    }
  });
});

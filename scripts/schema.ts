/**
 * `npm run schema`: writes schemas/users.schema.json from its parts (src/model/schemaParts.ts),
 * formatted like every JSON file of the project. Run it after editing schemas/users.core.json,
 * a system's users.schema.json or the UPN rule; test/model/schema.test.ts fails until you do.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { composeUsersSchema, USERS_SCHEMA_URL } from "../src/model/schemaParts.ts";

const file = fileURLToPath(USERS_SCHEMA_URL);
writeFileSync(file, `${JSON.stringify(composeUsersSchema(), null, 2)}\n`);
const biome = fileURLToPath(new URL("../node_modules/@biomejs/biome/bin/biome", import.meta.url));
const formatted = spawnSync(process.execPath, [biome, "format", "--write", file], { stdio: "inherit" });
process.exit(formatted.status ?? 1);

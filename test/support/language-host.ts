/**
 * Finds Pulumi's Node.js language host (`pulumi-language-nodejs`) where a user's machine has it.
 * The project never installs it (it ships only with the official Pulumi CLI, and the Go module
 * proxy does not serve its module), so tests of the official-CLI path look for it and skip
 * when it is absent.
 */
import { accessSync, constants, existsSync, realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { repo } from "./project.ts";

const NAME = "pulumi-language-nodejs";
/** Names the language host binary, or the folder holding it; checked first. */
export const LANGUAGE_HOST_VARIABLE = "D365_ACCESS_LANGUAGE_HOST";

export interface LanguageHost {
  /** The executable. */
  file: string;
  /** Where it was found, for the test's diagnostics. */
  via: string;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Looks, in order: `$D365_ACCESS_LANGUAGE_HOST` (a binary or its folder; an error when set but
 * wrong, so a misconfigured run does not pass as skipped), `PATH` (as the pulumi CLI itself
 * does), beside the pulumi binary the project uses (one folder per install: Homebrew,
 * the release archive), then `~/.pulumi/bin`, where the official installer puts it.
 */
export function findLanguageHost(env: NodeJS.ProcessEnv = process.env): LanguageHost | undefined {
  const named = env[LANGUAGE_HOST_VARIABLE];
  if (named) {
    const file = existsSync(named) && statSync(named).isDirectory() ? path.join(named, NAME) : named;
    if (!executable(file)) {
      throw new Error(`${LANGUAGE_HOST_VARIABLE}=${named}: no executable ${NAME} there`);
    }
    return { file, via: `$${LANGUAGE_HOST_VARIABLE}` };
  }
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, NAME);
    if (executable(file)) return { file, via: "PATH" };
  }
  const pulumi = path.join(repo, ".tools", "bin", "pulumi");
  if (existsSync(pulumi)) {
    const file = path.join(path.dirname(realpathSync(pulumi)), NAME);
    if (executable(file)) return { file, via: "beside pulumi" };
  }
  const file = path.join(homedir(), ".pulumi", "bin", NAME);
  if (executable(file)) return { file, via: "~/.pulumi/bin" };
  return undefined;
}

/** Why the official-CLI tests are skipped, in one line. */
export const LANGUAGE_HOST_MISSING =
  `${NAME} (Pulumi's Node.js language host) is not in $${LANGUAGE_HOST_VARIABLE}, on PATH, beside pulumi ` +
  "or in ~/.pulumi/bin: the official-CLI test is skipped. It comes with the official Pulumi CLI " +
  "(https://www.pulumi.com/docs/iac/download-install/).";

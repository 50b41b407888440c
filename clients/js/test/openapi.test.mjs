// The client's types against keyward's OpenAPI document: openapi-typescript turns the document
// into types, and tsc compiles a check that the verdict codes, shapes and field sets agree, both
// ways. The @ts-expect-error lines prove the checks can fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { VERIFY_CODES } from "../src/index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const client = fileURLToPath(new URL("../src/index.js", import.meta.url));
const document = JSON.parse(readFileSync(join(root, "openapi/openapi.json"), "utf8"));

const CHECK = `
import type { components, operations } from "./openapi";
import type {
  BindingVerifyOptions,
  Consistency,
  InvalidVerification,
  Problem,
  ValidVerification,
  Verification,
  VerifiedToken,
  VerifyCode,
} from ${JSON.stringify(client)};

type S = components["schemas"];
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
type Extends<A, B> = [A] extends [B] ? true : false;
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
type Body = operations["verifyPost"]["requestBody"]["content"]["application/json"];

// The codes, both ways, and the consistencies.
export type Codes = Assert<Equal<VerifyCode, S["Verification"]["code"]>>;
export type Consistencies = Assert<Equal<Consistency, S["Consistency"]>>;
// Each member of the union is a Verification as the document describes it.
export type ValidIsVerification = Assert<Extends<ValidVerification, S["Verification"]>>;
export type InvalidIsVerification = Assert<Extends<InvalidVerification, S["Verification"]>>;
export type UnionIsVerification = Assert<Extends<Verification, S["Verification"]>>;
// Together the members cover every code the document allows.
export type UnionCodes = Assert<Equal<Verification["code"], S["Verification"]["code"]>>;
// The field sets agree, and so does which fields are required.
export type ValidFields = Assert<Equal<keyof ValidVerification, keyof S["Verification"]>>;
export type InvalidFields = Assert<Equal<keyof InvalidVerification, keyof S["Verification"]>>;
export type InvalidRequired = Assert<Equal<RequiredKeys<InvalidVerification>, RequiredKeys<S["Verification"]>>>;
export type ValidRequired = Assert<Equal<RequiredKeys<ValidVerification>, RequiredKeys<S["Verification"]> | "token">>;
// The verified token is exactly the document's.
export type Token = Assert<Equal<VerifiedToken, NonNullable<S["Verification"]["token"]>>>;
export type TokenFields = Assert<Equal<keyof VerifiedToken, keyof NonNullable<S["Verification"]["token"]>>>;
// Each field's type, both ways.
export type Fields = Assert<
  Equal<
    { [K in keyof S["Verification"]]-?: Exclude<S["Verification"][K], undefined> },
    {
      [K in keyof S["Verification"]]-?: K extends "valid" | "code" | "token"
        ? Exclude<Verification[K], undefined>
        : Exclude<InvalidVerification[K] | ValidVerification[K], undefined>;
    }
  >
>;
// Problems: what the document says keyward answers is what the client's Problem reads.
export type Problems = Assert<Extends<S["Problem"], Problem>>;
export type ProblemFields = Assert<Equal<keyof Problem, keyof S["Problem"]>>;
// The binding's options are the request body's, less the token.
export type Options = Assert<Equal<keyof BindingVerifyOptions | "token", keyof Body>>;
export type OptionTypes = Assert<Extends<BindingVerifyOptions & { token: string }, Body>>;

// The checks can fail: a code missing on either side, a field missing, a field too many.
// @ts-expect-error a code missing from the client
export type F1 = Assert<Equal<Exclude<VerifyCode, "EXPIRED">, S["Verification"]["code"]>>;
// @ts-expect-error a code the document does not have
export type F2 = Assert<Equal<VerifyCode | "STALE", S["Verification"]["code"]>>;
// @ts-expect-error a field missing from the client
export type F3 = Assert<Equal<Exclude<keyof ValidVerification, "checked_at">, keyof S["Verification"]>>;
// @ts-expect-error a field the document does not have
export type F4 = Assert<Equal<keyof (ValidVerification & { cached: boolean }), keyof S["Verification"]>>;
// @ts-expect-error a token field of another type
export type F5 = Assert<Equal<VerifiedToken & { expires_at: string }, NonNullable<S["Verification"]["token"]>>>;
// @ts-expect-error a member that is not a Verification
export type F6 = Assert<Extends<Omit<InvalidVerification, "consistency"> & { consistency: "eventual" }, S["Verification"]>>;
`;

test("VERIFY_CODES is the document's enum, in its order (the order keyward checks them)", () => {
  assert.deepEqual(VERIFY_CODES, document.components.schemas.Verification.properties.code.enum);
});

test("the client's types agree with the OpenAPI document (openapi-typescript, then tsc)", () => {
  const dir = mkdtempSync(join(tmpdir(), "keyward-client-types-"));
  try {
    const bin = (name) => join(root, "node_modules", ".bin", name);
    execFileSync(
      process.execPath,
      [bin("openapi-typescript"), join(root, "openapi/openapi.json"), "-o", join(dir, "openapi.d.ts")],
      {
        stdio: "pipe",
      },
    );
    assert.match(readFileSync(join(dir, "openapi.d.ts"), "utf8"), /Verification: \{/);
    writeFileSync(join(dir, "check.ts"), CHECK);
    const compilerOptions = {
      target: "es2022",
      module: "es2022",
      moduleResolution: "bundler",
      lib: ["es2022", "dom"],
      types: [],
      strict: true,
      noEmit: true,
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["check.ts"] }));
    try {
      execFileSync(process.execPath, [bin("tsc"), "-p", join(dir, "tsconfig.json")], { stdio: "pipe", cwd: dir });
    } catch (e) {
      assert.fail(`tsc found the types and the document apart:\n${e.stdout}${e.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

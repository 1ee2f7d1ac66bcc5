// Validates rendered Kubernetes manifests offline (make deploy-check): every object of every
// multi-document YAML file given on the command line must be of a kind we have a schema for,
// and must pass that schema. Every problem of every file is listed; the exit code is 1 if any.
//
//   node deploy/tools/validate.mjs rendered/dev.yaml rendered/prod.yaml
//   node deploy/tools/validate.mjs --json rendered/dev.yaml   # the objects as one JSON array (for
//                                                             # tests/unit/deploy: no Python YAML parser needed)
//
// Schemas: the JSON schemas compiled into the pinned npm packages of kubernetes-models
// (Kubernetes core kinds) and @kubernetes-models/* (Strimzi, CloudNativePG, prometheus-operator
// CRDs); `new Model(obj).validate()` throws on a schema error. An unknown apiVersion/kind is an
// error, never skipped: a resource nobody validated must not reach a cluster.
//
// The schemas accept unknown fields (the upstream OpenAPI schemas allow extra properties), so a
// misspelled field (`readinesProbe`) would pass them and be dropped silently by the API server's
// non-strict paths. Second pass, for that: every object is written as a TypeScript object literal
// typed with its model's interface (the same packages' .d.ts files) and type-checked with the
// pinned TypeScript compiler, whose excess-property check rejects any field the type lacks.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

// Type-check files live inside the repository so module resolution finds node_modules.
const TYPECHECK_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../node_modules/.cache/deploy-check");

// API group -> npm package that models it. The core group ("v1") and the built-in groups live in
// kubernetes-models; CRD groups in their own packages.
const CRD_PACKAGES = {
  "kafka.strimzi.io": "@kubernetes-models/strimzi-kafka-operator",
  "core.strimzi.io": "@kubernetes-models/strimzi-kafka-operator",
  "postgresql.cnpg.io": "@kubernetes-models/cloudnative-pg",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

const KIND = /^[A-Z][A-Za-z0-9]*$/;
const VERSION = /^v[0-9]+((alpha|beta)[0-9]+)?$/;

/** The model class for apiVersion/kind, or an Error saying why there is none. */
async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !KIND.test(kind)) {
    return new Error(`missing or malformed apiVersion/kind (${apiVersion}/${kind})`);
  }
  const parts = apiVersion.split("/");
  const [group, version] = parts.length === 1 ? ["", parts[0]] : parts;
  if (parts.length > 2 || !VERSION.test(version)) {
    return new Error(`malformed apiVersion ${apiVersion}`);
  }
  const pkg = CRD_PACKAGES[group] ?? "kubernetes-models";
  const path = group === "" ? `${pkg}/${version}/${kind}` : `${pkg}/${group}/${version}/${kind}`;
  let mod;
  try {
    mod = await import(path);
  } catch {
    return new Error(`unknown kind ${apiVersion}/${kind}: no schema in ${pkg} (add the package that models it to package.json)`);
  }
  const Model = mod[kind];
  // Guard against a module that exists but is a sub-type (e.g. a spec), not a resource.
  if (typeof Model !== "function" || Model.apiVersion !== apiVersion || Model.kind !== kind) {
    return new Error(`unknown kind ${apiVersion}/${kind}: ${path} is not that resource's model`);
  }
  Model.modulePath = path;
  return Model;
}

/** Type-check the schema-valid objects of every file at once (one compiler run): problems per
 * file. `typed` is a list of {source, entries: [{where, name, Model, obj}]}. */
function typeCheck(typed) {
  if (typed.every(({ entries }) => entries.length === 0)) return typed.map(() => []);
  mkdirSync(TYPECHECK_DIR, { recursive: true });
  const dir = mkdtempSync(join(TYPECHECK_DIR, "tc-"));
  try {
    const lines = new Map(); // .ts file -> per line, the object declared there (null: an import)
    typed.forEach(({ entries }, fileIndex) => {
      const imports = [];
      const body = [];
      entries.forEach((entry, i) => {
        imports.push(`import type { I${entry.Model.kind} as T${i} } from "${entry.Model.modulePath}";`);
      });
      entries.forEach((entry, i) => {
        body.push(`export const o${i}: T${i} = ${JSON.stringify(entry.obj)};`);
      });
      const file = join(dir, `f${fileIndex}.ts`);
      writeFileSync(file, [...imports, ...body].join("\n") + "\n");
      lines.set(file, [...imports.map(() => null), ...entries]);
    });
    const program = ts.createProgram([...lines.keys()], {
      noEmit: true,
      strict: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
    });
    const problems = typed.map(() => []);
    for (const diag of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(diag.messageText, " ");
      const fileIndex = diag.file ? [...lines.keys()].indexOf(diag.file.fileName) : -1;
      if (fileIndex < 0) {
        problems[0].push(`${typed[0].source}: type check: ${message}`);
        continue;
      }
      const { line } = diag.file.getLineAndCharacterOfPosition(diag.start ?? 0);
      const entry = lines.get(diag.file.fileName)[line];
      problems[fileIndex].push(entry ? `${entry.where} (${entry.name}): ${message}` : `${typed[fileIndex].source}: type check: ${message}`);
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One file: its problems (strings, empty when valid), the number of valid objects, and those
 * objects with their models (for the type check). */
export async function validateText(text, source) {
  const problems = [];
  const entries = [];
  let count = 0;
  for (const [index, doc] of parseAllDocuments(text).entries()) {
    const where = `${source} document ${index + 1}`;
    if (doc.errors.length > 0) {
      problems.push(`${where}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue; // an empty document between separators
    if (typeof obj !== "object" || Array.isArray(obj)) {
      problems.push(`${where}: not a Kubernetes object`);
      continue;
    }
    const name = `${obj.kind ?? "?"} ${obj.metadata?.namespace ? obj.metadata.namespace + "/" : ""}${obj.metadata?.name ?? "?"}`;
    if (!obj.metadata?.name) {
      problems.push(`${where} (${name}): metadata.name is required`);
      continue;
    }
    const Model = await modelFor(obj.apiVersion, obj.kind);
    if (Model instanceof Error) {
      problems.push(`${where} (${name}): ${Model.message}`);
      continue;
    }
    try {
      new Model(obj).validate();
      count += 1;
      entries.push({ where, name, Model, obj });
    } catch (err) {
      problems.push(`${where} (${name}): ${err.message}`);
    }
  }
  if (count === 0 && problems.length === 0) problems.push(`${source}: no Kubernetes objects`);
  return { problems, count, entries };
}

function toJson(files) {
  const objects = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${file}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      const obj = doc.toJS();
      if (obj !== null && obj !== undefined) objects.push(obj);
    }
  }
  process.stdout.write(JSON.stringify(objects));
  return 0;
}

async function main(args) {
  if (args[0] === "--json") return toJson(args.slice(1));
  const files = args;
  if (files.length === 0) {
    console.error("usage: node deploy/tools/validate.mjs FILE.yaml...");
    return 2;
  }
  let failed = false;
  const results = [];
  for (const file of files) results.push({ source: file, ...(await validateText(readFileSync(file, "utf8"), file)) });
  const typeProblems = typeCheck(results);
  results.forEach((result, i) => {
    const problems = [...result.problems, ...typeProblems[i]];
    if (problems.length > 0) {
      failed = true;
      for (const p of problems) console.error(`INVALID ${p}`);
    } else {
      console.log(`${result.source}: ${result.count} objects valid (schema and fields)`);
    }
  });
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

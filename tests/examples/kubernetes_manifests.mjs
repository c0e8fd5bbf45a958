// examples/kubernetes/*.yaml against the Kubernetes schemas (npm `kubernetes-models`, each
// object through its model's validate()) and tomodachi's own rules (probes on the health
// port and paths, the grace period = the shutdown deadline + 5 s, ...), read from the
// ConfigMap's config file. A deliberately broken manifest (tests/fixtures/kubernetes/) must
// fail validation, and each rule must catch a manifest that breaks it.
//   node kubernetes_manifests.mjs <node_modules dir>
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { check, loadDocuments, validateSchema } from "./kubernetes_rules.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const source = process.env.TOMODACHI_SOURCE_DIR ?? path.resolve(here, "..", "..");
const modules = process.argv[2] && path.resolve(process.argv[2]);
assert.ok(modules && fs.existsSync(path.join(modules, "kubernetes-models")), `no kubernetes-models in ${modules}`);
const YAML = createRequire(path.join(modules, "noop.js"))("yaml");

let failures = 0;
async function test(name, body) {
  try {
    await body();
    console.log(`ok   ${name}`);
  } catch (error) {
    failures += 1;
    console.log(`FAIL ${name}\n     ${String(error.stack ?? error).replaceAll("\n", "\n     ")}`);
  }
}

const exampleDir = path.join(source, "examples", "kubernetes");
const examples = loadDocuments(YAML, exampleDir);
const clone = () => structuredClone(examples);
const deploymentOf = (docs) => docs.find((doc) => doc.object.kind === "Deployment").object;
const containerOf = (docs) => deploymentOf(docs).spec.template.spec.containers[0];

await test("examples/kubernetes holds a ConfigMap, a Deployment and a Service", () => {
  const kinds = examples.map((doc) => doc.object.kind).sort();
  assert.deepEqual(kinds, ["ConfigMap", "Deployment", "Service"]);
});

for (const doc of examples) {
  await test(`${doc.where}: ${doc.object.kind} ${doc.object.metadata?.name} passes validate()`, async () => {
    await validateSchema(modules, doc.object);
  });
}

await test("the tomodachi rules hold for examples/kubernetes", () => {
  assert.deepEqual(check(examples), []);
});

const broken = loadDocuments(YAML, path.join(source, "tests", "fixtures", "kubernetes"));
await test("the broken fixture manifest fails validate()", async () => {
  assert.ok(broken.length > 0, "no fixture manifests");
  for (const doc of broken) {
    await assert.rejects(validateSchema(modules, doc.object), (error) => {
      console.log(`     ${doc.where} rejected as expected: ${error.message.split("\n")[0]}`);
      return /containerPort must be integer/.test(error.message);
    });
  }
});

// Each rule against a copy of the examples broken in one place: the rule must name it.
const mutations = [
  ["terminationGracePeriodSeconds != deadline + 5", /terminationGracePeriodSeconds/,
    (docs) => { deploymentOf(docs).spec.template.spec.terminationGracePeriodSeconds = 30; }],
  ["a probe path outside the health paths", /livenessProbe.*path/,
    (docs) => { containerOf(docs).livenessProbe.httpGet.path = "/health"; }],
  ["a probe on a port that is not health.port", /readinessProbe.*port/,
    (docs) => { containerOf(docs).readinessProbe.httpGet.port = "http"; }],
  ["a missing startup probe", /startupProbe/,
    (docs) => { delete containerOf(docs).startupProbe; }],
  ["the config without health.*", /health.enabled/,
    (docs) => {
      const map = docs.find((doc) => doc.object.kind === "ConfigMap").object;
      const config = JSON.parse(map.data["tomodachi.json"]);
      delete config.options.health;
      map.data["tomodachi.json"] = JSON.stringify(config);
    }],
  ["the Prometheus exporter on loopback", /OTEL_PYTHON_TOMODACHI_PROMETHEUS_ADDRESS/,
    (docs) => { containerOf(docs).env = containerOf(docs).env.filter((e) => !e.name.endsWith("PROMETHEUS_ADDRESS")); }],
  ["drain_delay not below the deadline", /drain_delay/,
    (docs) => {
      const map = docs.find((doc) => doc.object.kind === "ConfigMap").object;
      const config = JSON.parse(map.data["tomodachi.json"]);
      config.options.health.drain_delay = 30;
      map.data["tomodachi.json"] = JSON.stringify(config);
    }],
  ["a path prefix without its trailing slash", /path_prefix/,
    (docs) => {
      const map = docs.find((doc) => doc.object.kind === "ConfigMap").object;
      const config = JSON.parse(map.data["tomodachi.json"]);
      config.options.health.path_prefix = "/health";
      map.data["tomodachi.json"] = JSON.stringify(config);
    }],
  ["a Service targetPort that is not the HTTP port", /targetPort/,
    (docs) => { docs.find((doc) => doc.object.kind === "Service").object.spec.ports[0].targetPort = 8081; }],
];
for (const [name, expected, mutate] of mutations) {
  await test(`the rules catch ${name}`, () => {
    const docs = clone();
    mutate(docs);
    const problems = check(docs);
    assert.ok(problems.some((problem) => expected.test(problem)), `expected ${expected}, got ${JSON.stringify(problems)}`);
  });
}

console.log(failures ? `${failures} failed` : "all passed");
process.exit(failures ? 1 : 0);

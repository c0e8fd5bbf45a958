// What the Kubernetes example must get right for tomodachi, shared by the manifest test and
// the config test: loading the manifests, schema validation through kubernetes-models, and
// check(docs) -> a list of broken rules (empty when all hold).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const DEFAULT_DEADLINE = 30;  // http.termination_grace_period_seconds (docs/options.md)
export const DEFAULT_HTTP_PORT = 9700;
export const DEFAULT_PROMETHEUS_PORT = 9464;
export const HEALTH_PATHS = { startupProbe: "startupz", livenessProbe: "livez", readinessProbe: "readyz" };

// Every document of every *.yaml / *.yml in dir (sorted), as {where, object}.
export function loadDocuments(YAML, dir) {
  const docs = [];
  for (const name of fs.readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = path.join(dir, name);
    YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).forEach((doc, index) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
      const object = doc.toJS();
      if (object !== null) docs.push({ where: `${name}#${index}`, object });
    });
  }
  return docs;
}

// The kubernetes-models class of apiVersion/kind (`v1` → kubernetes-models/v1,
// `apps/v1` → kubernetes-models/apps/v1); throws for an unknown kind.
export async function modelOf(modules, object) {
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string") throw new Error("no apiVersion/kind");
  const index = path.join(modules, "kubernetes-models", ...apiVersion.split("/"), "index.js");
  if (!fs.existsSync(index)) throw new Error(`kubernetes-models has no apiVersion ${apiVersion}`);
  const group = await import(pathToFileURL(index).href);
  if (typeof group[kind] !== "function") throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return group[kind];
}

export async function validateSchema(modules, object) {
  const Model = await modelOf(modules, object);
  new Model(object).validate();  // throws with the failing paths
}

// An option of a tomodachi config's "options": a dotted key ("health.port") or nested objects.
export function option(options, key, fallback) {
  if (options === null || typeof options !== "object") return fallback;
  if (Object.hasOwn(options, key)) return options[key];
  const dot = key.indexOf(".");
  if (dot > 0 && Object.hasOwn(options, key.slice(0, dot))) return option(options[key.slice(0, dot)], key.slice(dot + 1), fallback);
  return fallback;
}

// `<health.path_prefix><name>`; the prefix starts and ends with "/" ("/", "/health/").
export function healthPaths(prefix) {
  return Object.fromEntries(Object.entries(HEALTH_PATHS).map(([probe, name]) => [probe, `${prefix ?? "/"}${name}`]));
}

// The config file the Deployment passes with `-c`: {map, key, text, config} or a problem string.
export function mountedConfig(docs) {
  const deployment = docs.find((doc) => doc.object.kind === "Deployment")?.object;
  const podSpec = deployment?.spec?.template?.spec;
  const container = podSpec?.containers?.[0];
  const args = [...(container?.command ?? []), ...(container?.args ?? [])];
  const flag = args.indexOf("-c");
  if (flag < 0 || flag + 1 >= args.length) return "the container's args pass no `-c <config file>`";
  const file = args[flag + 1];
  for (const mount of container.volumeMounts ?? []) {
    const dir = mount.mountPath.replace(/\/+$/, "");
    if (!file.startsWith(`${dir}/`)) continue;
    const volume = (podSpec.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume?.configMap) return `${file}: volume ${mount.name} is not a ConfigMap`;
    const map = docs.find((doc) => doc.object.kind === "ConfigMap" && doc.object.metadata?.name === volume.configMap.name)?.object;
    if (!map) return `${file}: no ConfigMap ${volume.configMap.name} among the manifests`;
    const key = file.slice(dir.length + 1);
    const text = map.data?.[key];
    if (typeof text !== "string") return `${file}: ConfigMap ${map.metadata.name} has no key ${key}`;
    try {
      return { map, key, text, config: JSON.parse(text) };
    } catch (error) {
      return `${file}: not JSON (${error.message}); tomodachi's -c reads JSON`;
    }
  }
  return `${file}: not under any volumeMount of the container`;
}

function containerPort(container, port) {
  if (typeof port === "number") return port;
  return (container.ports ?? []).find((p) => p.name === port)?.containerPort;
}

function envOf(container, name) {
  return (container.env ?? []).find((e) => e.name === name)?.value;
}

export function check(docs) {
  const problems = [];
  const deployment = docs.find((doc) => doc.object.kind === "Deployment")?.object;
  if (!deployment) return ["no Deployment"];
  const podSpec = deployment.spec.template.spec;
  const container = podSpec.containers[0];
  const mounted = mountedConfig(docs);
  if (typeof mounted === "string") return [mounted];
  const options = mounted.config.options ?? {};

  const rawDeadline = option(options, "http.termination_grace_period_seconds", DEFAULT_DEADLINE);
  const deadline = Number(rawDeadline) > 0 ? Number(rawDeadline) : DEFAULT_DEADLINE;
  if (podSpec.terminationGracePeriodSeconds !== deadline + 5) {
    problems.push(`terminationGracePeriodSeconds is ${podSpec.terminationGracePeriodSeconds}, ` +
                  `not http.termination_grace_period_seconds (${deadline}) + 5`);
  }

  if (option(options, "health.enabled") !== true) problems.push("the config does not set health.enabled: true");
  const healthPort = option(options, "health.port");
  if (!Number.isInteger(healthPort) || healthPort <= 0) problems.push(`health.port is ${healthPort}, not a port`);
  const prefix = option(options, "health.path_prefix", "/");
  if (typeof prefix !== "string" || !prefix.startsWith("/") || !prefix.endsWith("/")) {
    problems.push(`health.path_prefix ${JSON.stringify(prefix)} does not start and end with "/" (tomodachi refuses it)`);
  }
  const paths = healthPaths(prefix);
  for (const [probe, expected] of Object.entries(paths)) {
    const spec = container[probe];
    if (!spec) { problems.push(`no ${probe}`); continue; }
    if (!spec.httpGet) { problems.push(`${probe} is not an httpGet probe`); continue; }
    if (spec.httpGet.path !== expected) problems.push(`${probe} path ${spec.httpGet.path} is not ${expected}`);
    const port = containerPort(container, spec.httpGet.port);
    if (port !== healthPort) problems.push(`${probe} port ${spec.httpGet.port} (${port}) is not health.port ${healthPort}`);
    const period = spec.periodSeconds ?? 10;
    if ((spec.timeoutSeconds ?? 1) >= period) problems.push(`${probe} timeoutSeconds is not below periodSeconds`);
  }

  const drainDelay = Number(option(options, "health.drain_delay", 0));
  const readinessPeriod = container.readinessProbe?.periodSeconds ?? 10;
  if (!(drainDelay >= readinessPeriod && drainDelay < deadline)) {
    problems.push(`health.drain_delay ${drainDelay} is not between one readiness period (${readinessPeriod}) and the deadline (${deadline})`);
  }
  const maxLoopLag = Number(option(options, "health.max_loop_lag", 5));
  const liveness = container.livenessProbe;
  if (liveness && (liveness.periodSeconds ?? 10) * (liveness.failureThreshold ?? 3) <= maxLoopLag) {
    problems.push("livenessProbe gives up before health.max_loop_lag could even trip");
  }

  const httpPort = option(options, "http.port", DEFAULT_HTTP_PORT);
  if (containerPort(container, "http") !== httpPort) problems.push(`containerPort "http" is not http.port ${httpPort}`);
  const service = docs.find((doc) => doc.object.kind === "Service")?.object;
  if (!service) problems.push("no Service");
  else {
    const labels = deployment.spec.template.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(service.spec.selector ?? {})) {
      if (labels[k] !== v) problems.push(`the Service selector ${k}=${v} does not match the pod labels`);
    }
    for (const port of service.spec.ports ?? []) {
      if (containerPort(container, port.targetPort ?? port.port) !== httpPort) {
        problems.push(`the Service targetPort ${port.targetPort} is not the HTTP port ${httpPort}`);
      }
    }
  }

  if (envOf(container, "OTEL_PYTHON_METER_PROVIDER") !== "tomodachi_prometheus") {
    problems.push("OTEL_PYTHON_METER_PROVIDER is not tomodachi_prometheus");
  }
  if (envOf(container, "OTEL_PYTHON_TOMODACHI_PROMETHEUS_ADDRESS") !== "0.0.0.0") {
    problems.push("OTEL_PYTHON_TOMODACHI_PROMETHEUS_ADDRESS is not 0.0.0.0 (the default, localhost, is unreachable for a scraper)");
  }
  const metricsPort = Number(envOf(container, "OTEL_PYTHON_TOMODACHI_PROMETHEUS_PORT") ?? DEFAULT_PROMETHEUS_PORT);
  if (!(container.ports ?? []).some((p) => p.containerPort === metricsPort)) problems.push(`the metrics port ${metricsPort} is not a containerPort`);
  const annotations = deployment.spec.template.metadata?.annotations ?? {};
  if (annotations["prometheus.io/scrape"] !== "true" || annotations["prometheus.io/port"] !== String(metricsPort)) {
    problems.push(`the pod's prometheus.io annotations do not scrape port ${metricsPort}`);
  }
  for (const kind of ["requests", "limits"]) {
    if (!container.resources?.[kind]?.cpu || !container.resources?.[kind]?.memory) problems.push(`no resources.${kind}`);
  }
  return problems;
}

// An OTLP/HTTP receiver for the telemetry tests. It decodes protobuf bodies with the
// OFFICIAL OTLP definitions (the protobufjs code generated from opentelemetry-proto that
// @opentelemetry/otlp-transformer ships) — never with tomodachi's own .proto — and JSON
// bodies as the OTLP JSON mapping. Each request is printed as one JSON line on stdout:
//   {"path", "contentType", "contentEncoding", "contentLength", "chunked", "body": <decoded>}
// with ids as lowercase hex and 64-bit integers as strings.
// Usage: node otlp_receiver.mjs <node_modules dir>   (prints "LISTENING <port>" first)
import http from 'node:http';
import zlib from 'node:zlib';
import path from 'node:path';
import { createRequire } from 'node:module';

const modules = process.argv[2];
const require = createRequire(path.join(modules, 'noop.js'));
const root = require(path.join(modules, '@opentelemetry/otlp-transformer/build/src/generated/root.js'));
const collector = root.opentelemetry.proto.collector;
const types = {
  '/v1/traces': collector.trace.v1.ExportTraceServiceRequest,
  '/v1/logs': collector.logs.v1.ExportLogsServiceRequest,
  '/v1/metrics': collector.metrics.v1.ExportMetricsServiceRequest,
};
const idFields = new Set(['traceId', 'spanId', 'parentSpanId']);

function hexIds(value) {
  if (Array.isArray(value)) return value.map(hexIds);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = idFields.has(k) && typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : hexIds(v);
    }
    return out;
  }
  return value;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let raw = Buffer.concat(chunks);
    const entry = {
      path: req.url,
      method: req.method,
      contentType: req.headers['content-type'] || '',
      contentEncoding: req.headers['content-encoding'] || '',
      contentLength: req.headers['content-length'] || '',
      chunked: (req.headers['transfer-encoding'] || '').includes('chunked'),
      apiKey: req.headers['x-api-key'] || '',
    };
    try {
      if (entry.contentEncoding === 'gzip') raw = zlib.gunzipSync(raw);
      const type = types[req.url];
      if (!type) throw new Error('unknown path ' + req.url);
      if (entry.contentType === 'application/x-protobuf') {
        const message = type.decode(raw);
        entry.body = hexIds(type.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false }));
        entry.encoding = 'protobuf';
      } else if (entry.contentType === 'application/json') {
        entry.body = JSON.parse(raw.toString('utf8'));
        const verified = type.verify(type.fromObject(JSON.parse(raw.toString('utf8'), (k, v) => (idFields.has(k) ? undefined : v))));
        if (verified) throw new Error('JSON does not fit the OTLP schema: ' + verified);
        entry.encoding = 'json';
      } else {
        throw new Error('unexpected content type ' + entry.contentType);
      }
      res.writeHead(200, { 'Content-Type': entry.contentType });
      res.end();
    } catch (err) {
      entry.error = String(err && err.message ? err.message : err);
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(entry.error);
    }
    process.stdout.write(JSON.stringify(entry) + '\n');
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

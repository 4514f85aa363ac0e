// A client written from protos/ alone, in JavaScript: it gets a token with client credentials,
// then submits, reads, lists and previews findings, and checks two refusals.
// Usage: node client.mjs <node-url> <client-id> <client-secret>
import http2 from 'node:http2';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const [url, clientId, clientSecret] = process.argv.slice(2);
if (!url || !clientId || !clientSecret) {
  console.error('usage: node client.mjs <node-url> <client-id> <client-secret>');
  process.exit(2);
}
const protos = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../protos');

function token() {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on('error', reject);
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString();
    const request = session.request({ ':method': 'POST', ':path': '/connect/token', 'content-type': 'application/x-www-form-urlencoded' });
    let text = '';
    request.setEncoding('utf8');
    request.on('data', chunk => { text += chunk; });
    request.on('end', () => {
      session.close();
      const json = JSON.parse(text);
      json.access_token ? resolve(json.access_token) : reject(new Error(`token refused: ${text}`));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const definition = protoLoader.loadSync(path.join(protos, 'exchange/v1/findings_service.proto'), {
  includeDirs: [protos], keepCase: false, enums: String, longs: String, defaults: true, oneofs: true,
});
const { exchange } = grpc.loadPackageDefinition(definition);
const target = new URL(url).host;
const client = new exchange.v1.FindingService(target, grpc.credentials.createInsecure());
const call = (method, request, metadata) => new Promise((resolve, reject) =>
  client[method](request, metadata ?? new grpc.Metadata(), (error, response) => (error ? reject(error) : resolve(response))));

const finding = {
  requestId: `js-${Date.now()}`,
  content: {
    title: 'Jailbreak transfer across model versions',
    summary: 'Prompts that broke the previous version still work on 12% of attempts.',
    model: { developer: 'Example Labs', name: 'frontier-1', version: '2026-11', stage: 'MODEL_STAGE_DEPLOYED' },
    evaluation: { framework: 'inspect_ai', task: 'jailbreak_transfer', method: 'EVALUATION_METHOD_RED_TEAMING', riskDomain: 'RISK_DOMAIN_SAFEGUARDS' },
    metrics: [{ name: 'attack_success_rate', scorer: 'model_graded', value: 0.12, stderr: 0.02 }],
    severity: 'SEVERITY_MEDIUM',
  },
  label: { level: 'TLP_LEVEL_GREEN' },
  policy: { recipientGroups: ['network'] },
};

const metadata = new grpc.Metadata();
metadata.set('authorization', `Bearer ${await token()}`);

const submitted = await call('submitFinding', finding, metadata);
assert.equal(submitted.finding.content.title, finding.content.title);
assert.equal(submitted.finding.label.level, 'TLP_LEVEL_GREEN');
const again = await call('submitFinding', finding, metadata);
assert.equal(again.finding.id, submitted.finding.id, 'a retry with the same request id must return the same finding');
assert.equal(again.replayed, true);

const read = await call('getFinding', { id: submitted.finding.id }, metadata);
assert.equal(read.finding.content.metrics[0].name, 'attack_success_rate');
const listed = await call('listFindings', { labels: ['TLP_LEVEL_GREEN'], pageSize: 100 }, metadata);
assert.ok(listed.findings.some(f => f.id === submitted.finding.id), 'the finding is listed');
const preview = await call('previewDisclosure', { content: finding.content, label: finding.label, policy: finding.policy }, metadata);
assert.ok(preview.decisions.length > 0, 'preview returns decisions');

const invalid = { ...finding, requestId: `js-bad-${Date.now()}`, content: { ...finding.content, title: '' } };
await assert.rejects(call('submitFinding', invalid, metadata), e => e.code === grpc.status.INVALID_ARGUMENT && e.details.includes('content.title'));
await assert.rejects(call('listFindings', {}), e => e.code === grpc.status.UNAUTHENTICATED);

console.log(JSON.stringify({ ok: true, id: submitted.finding.id, decisions: submitted.decisions.length, listed: listed.findings.length }));
client.close();

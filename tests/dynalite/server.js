// Test-only DynamoDB for the AWS-call tests and the demo: dynalite on 127.0.0.1 with an ephemeral
// port (or --port N), tables ACTIVE at once. Prints "listening <port>" when ready, then one line
// per request:
//   request <X-Amz-Target> sigv4=<ok|bad|none> trace=<X-Amzn-Trace-Id or ->
// sigv4 checks the request's AWS Signature Version 4 with the secret key of --secret (default
// xray-test-secret; dynalite itself checks only that a signature is present), so a test can show
// that the trace header did not break the signature. Stops on SIGTERM, or when stdin closes unless --no-stdin is given (for
// scripts that run it in the background, where stdin is /dev/null).
'use strict';
const crypto = require('crypto');
const dynalite = require('dynalite');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const port = Number(option('--port', '0'));
const secret = option('--secret', 'xray-test-secret');

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

// SigV4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
function verifySigV4(req, body) {
  const auth = req.headers.authorization || '';
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(auth);
  if (!match) return 'none';
  const [, , date, region, service, signedHeaders, signature] = match;
  const url = new URL(req.url, 'http://localhost');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`).join('&');
  const headers = signedHeaders.split(';').map((name) => {
    const value = String(req.headers[name] || '').trim().replace(/\s+/g, ' ');
    return `${name}:${value}\n`;
  }).join('');
  const canonical = [req.method, url.pathname, query, headers, signedHeaders,
    req.headers['x-amz-content-sha256'] || sha256(body)].join('\n');
  const amzDate = req.headers['x-amz-date'] || '';
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac('AWS4' + secret, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return crypto.createHmac('sha256', key).update(toSign).digest('hex') === signature ? 'ok' : 'bad';
}

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.on('request', (req) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const sigv4 = verifySigV4(req, Buffer.concat(chunks));
    process.stdout.write(`request ${req.headers['x-amz-target'] || '-'} sigv4=${sigv4} ` +
                         `trace=${req.headers['x-amzn-trace-id'] || '-'}\n`);
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
if (!args.includes('--no-stdin')) {
  process.stdin.on('end', stop);
  process.stdin.resume();
}

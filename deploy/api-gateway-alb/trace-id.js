// Front-end: show the X-Ray trace of a call, so a user can quote it in a support request.
// The C++ service (examples/helloworld, xray::beast::traced) answers every traced request with
//   X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1
// A page on another origin can read that header only if the response also carries
//   Access-Control-Expose-Headers: X-Amzn-Trace-Id
// (and Access-Control-Allow-Origin for the page's origin); see README.md for the service side.

/** Returns the trace id ("1-...") of a fetch Response, or null when there is none to read. */
function xrayTraceId(response) {
  const header = response.headers.get('X-Amzn-Trace-Id');
  if (!header) return null; // no header, or not exposed to this origin
  for (const part of header.split(';')) {
    const [key, value] = part.split('=', 2).map((s) => s.trim());
    if (key.toLowerCase() === 'root' && value) return value;
  }
  return null;
}

async function callHelloworld(baseUrl) {
  const response = await fetch(`${baseUrl}/helloworld`);
  const traceId = xrayTraceId(response);
  console.log(`status ${response.status}, X-Ray trace ${traceId ?? '(not exposed)'}`);
  // In the console: CloudWatch > Traces, or the query  trace.id = "<traceId>"
  return { body: await response.text(), traceId };
}

if (typeof module !== 'undefined') module.exports = { xrayTraceId, callHelloworld };

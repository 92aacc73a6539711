// Mints one token per request with Node's `jose` (panva), for the interop test: reads
// {"requests": [{"alg", "kid", "jwk" (private), "claims"}]} on stdin, writes {"tokens": [...]} on stdout.
import { importJWK, SignJWT } from 'jose';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { requests } = JSON.parse(input);
const tokens = [];
for (const r of requests) {
  const key = await importJWK(r.jwk, r.alg);
  tokens.push(await new SignJWT(r.claims).setProtectedHeader({ alg: r.alg, kid: r.kid, typ: 'JWT' }).sign(key));
}
process.stdout.write(JSON.stringify({ tokens }));

// The graphql-http audit (GraphQL over HTTP, https://graphql.github.io/graphql-over-http/)
// against a running server: `node audit.mjs http://127.0.0.1:8080/graphql`. Prints every
// check; exits non-zero on any warning or error.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <url of /graphql>');
  process.exit(2);
}
const results = await auditServer({ url });
let bad = 0;
for (const r of results) {
  if (r.status === 'ok') {
    console.log(`ok     ${r.name}`);
    continue;
  }
  bad += 1;
  console.log(`${r.status.toUpperCase().padEnd(6)} ${r.name}: ${r.reason}`);
  if (r.response) {
    let body = '';
    try {
      body = await r.response.clone().text();
    } catch {
      body = '(body already read)';
    }
    console.log(`       -> ${r.response.status} ${r.response.headers.get('content-type')} ${body.slice(0, 300)}`);
  }
}
const ok = results.length - bad;
console.log(`\n${ok} of ${results.length} checks passed, ${bad} warnings or errors`);
process.exit(bad === 0 ? 0 : 1);

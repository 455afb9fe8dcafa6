// The graphql-http audit (GraphQL over HTTP spec): every MUST, SHOULD and MAY must pass.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
let failed = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const r = await audit.fn();
  if (r.status !== 'ok') {
    failed++;
    console.log(`${r.status.toUpperCase()} ${audit.name}: ${r.reason}`);
  }
}
console.log(`graphql-http audit: ${failed} not ok`);
process.exit(failed === 0 ? 0 : 1);

// A subscription through the graphql-ws library (as Apollo Client and urql use it): the
// service key in connectionParams, a mutation over HTTP, the created row delivered.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, key] = process.argv.slice(2);
const fail = (m) => { console.error(m); process.exit(1); };
setTimeout(() => fail('no delivery within 20 s'), 20000).unref();
const client = createClient({
  url: base.replace(/^http/, 'ws') + '/graphql',
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${key}` },
});
const name = `ci-${Date.now()}`;
const delivered = new Promise((resolve, reject) => {
  client.subscribe(
    { query: 'subscription { categoryCreated { name } }' },
    { next: resolve, error: reject, complete: () => {} },
  );
});
// Registered once a query sent after it on the same socket is answered.
await new Promise((resolve, reject) =>
  client.subscribe({ query: '{ __typename }' }, { next: () => {}, error: reject, complete: resolve }));
const r = await fetch(base + '/graphql', {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
  body: JSON.stringify({ query: `mutation { createCategory(input: {name: "${name}"}) { id } }` }),
});
if (r.status !== 200) fail(`mutation: HTTP ${r.status}`);
const got = await delivered;
if (got?.data?.categoryCreated?.name !== name) fail(`unexpected delivery: ${JSON.stringify(got)}`);
console.log('graphql-ws subscription: delivered', JSON.stringify(got));
await client.dispose();

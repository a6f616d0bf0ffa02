// `npm run api-key -- new`: a new key (give it to the partner, once) and its hash (for the keys file).
// `npm run api-key -- hash KEY`: the hash of an existing key.
import { hashKey, newKey } from '../src/partners/api-keys.js';

const [command, key] = process.argv.slice(2);
if (command === 'new') {
  const created = newKey();
  console.log(`key:  ${created}\nhash: ${hashKey(created)}`);
} else if (command === 'hash' && key) {
  console.log(hashKey(key));
} else {
  console.error('usage: npm run api-key -- new | hash KEY');
  process.exit(2);
}

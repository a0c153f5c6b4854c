// Regenerates ids.txt from lines.txt with the npm package gpt-3-encoder@1.1.4.
// Run once, not at test time:
//   cd /tmp/gpt3 && npm init -y && npm install gpt-3-encoder@1.1.4
//   NODE_PATH=/tmp/gpt3/node_modules node gen.js
const fs = require('fs');
const { encode, decode } = require('gpt-3-encoder');

const text = fs.readFileSync(__dirname + '/lines.txt', 'utf8');
const lines = text.split('\n');
lines.pop(); // the file ends with a newline
const out = lines.map((line, i) => {
  const ids = encode(line);
  if (decode(ids) !== line) throw new Error(`line ${i + 1}: decode does not round-trip`);
  return ids.join(' ');
});
fs.writeFileSync(__dirname + '/ids.txt', out.join('\n') + '\n');
console.log(`${lines.length} lines`);

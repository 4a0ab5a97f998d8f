// Validates AsyncAPI documents with the official parser (@asyncapi/parser, pinned in package.json): prints each
// diagnostic of severity error and exits 1 when there is one. Usage: node validate.mjs docs/asyncapi.json ...
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;
for (const path of process.argv.slice(2)) {
  const diagnostics = await parser.validate(await readFile(path, "utf8"), { source: path });
  for (const diagnostic of diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error)) {
    failed = true;
    console.log(`${path}: ${diagnostic.path.join("/")}: ${diagnostic.message}`);
  }
}
process.exit(failed ? 1 : 0);

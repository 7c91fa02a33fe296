// Prints one closing line for the whole test run, "total: N passed, N failed", from vitest's JSON report
// and cargo test's output, so the combined result of both runners is stated in one place.
import { readFileSync } from 'node:fs'

const [vitestReport, cargoLog] = process.argv.slice(2)
const vitest = JSON.parse(readFileSync(vitestReport, 'utf8'))
let passed = vitest.numPassedTests
let failed = vitest.numFailedTests
for (const match of readFileSync(cargoLog, 'utf8').matchAll(
  /^test result: \w+\. (\d+) passed; (\d+) failed/gm,
)) {
  passed += Number(match[1])
  failed += Number(match[2])
}
console.log(`vitest: ${vitest.numPassedTests} passed, ${vitest.numFailedTests} failed`)
console.log(`total: ${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)

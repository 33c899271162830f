import { defineConfig } from "vitest/config"

// Tests run against source through the "@rwpsim/source" export condition: no build needed.
// Vite applies `resolve.conditions` to the client only; tests run in the SSR environment, which
// takes its own (without it, workspace imports would silently resolve to a stale dist/).
const resolve = { conditions: ["@rwpsim/source"] }
const ssr = { resolve: { conditions: ["@rwpsim/source"], externalConditions: ["@rwpsim/source"] } }
const sweep = process.env.RWPSIM_SWEEP === "1"
// `npm run test:browser`: the HTML report in headless Chromium (Debian's chromium, playwright-core)
const browser = process.env.RWPSIM_BROWSER === "1"

export default defineConfig({
  resolve,
  ssr,
  test: {
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "scripts/**/*.test.ts"],
          exclude: ["**/*.sweep.test.ts", "**/*.browser.test.ts", "**/node_modules/**"],
          setupFiles: ["./vitest.setup.ts"],
          // whole simulated runs on 2 shared cores: a slow machine must not turn into a failure
          testTimeout: 60_000
        }
      },
      {
        resolve,
        ssr,
        test: {
          name: "sweep",
          include: sweep ? ["packages/*/test/**/*.sweep.test.ts"] : [],
          passWithNoTests: true,
          setupFiles: ["./vitest.setup.ts"],
          testTimeout: 600_000
        }
      },
      {
        resolve,
        ssr,
        test: {
          name: "browser",
          include: browser ? ["packages/*/test/**/*.browser.test.ts"] : [],
          passWithNoTests: true,
          setupFiles: ["./vitest.setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000
        }
      }
    ]
  }
})

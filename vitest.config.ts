import { defineConfig } from "vitest/config"

// Tests run against source through the "@rwpsim/source" export condition: no build needed.
const resolve = { conditions: ["@rwpsim/source"] }
const sweep = process.env.RWPSIM_SWEEP === "1"

export default defineConfig({
  resolve,
  test: {
    projects: [
      {
        resolve,
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "scripts/**/*.test.ts"],
          exclude: ["**/*.sweep.test.ts", "**/*.browser.test.ts", "**/node_modules/**"],
          setupFiles: ["./vitest.setup.ts"]
        }
      },
      {
        resolve,
        test: {
          name: "sweep",
          include: sweep ? ["packages/*/test/**/*.sweep.test.ts"] : [],
          passWithNoTests: true,
          setupFiles: ["./vitest.setup.ts"],
          testTimeout: 600_000
        }
      }
    ]
  }
})

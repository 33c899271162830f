// Tidy checks over the source tree (after TigerBeetle's src/tidy.zig): determinism and layering
// rules that must hold in every package, checked by reading the files, plus the Biome lint itself.
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "..")
const simulationPackages = ["hw", "kernel", "guest", "sched", "vmm", "sim", "scenario"]
const noEffectPackages = ["hw", "kernel", "guest"]

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sources(path))
    else if (name.endsWith(".ts")) out.push(path)
  }
  return out
}

// Calls that read wall time, host randomness, the environment or timers.
const banned = [
  /\bMath\.random\s*\(/,
  /\bDate\.now\s*\(/,
  /\bnew Date\s*\(/,
  /\bperformance\.now\s*\(/,
  /\bprocess\.hrtime\b/,
  /\bprocess\.env\b/,
  /\bsetTimeout\s*\(/,
  /\bsetInterval\s*\(/,
  /\bsetImmediate\s*\(/,
  /\bcrypto\.randomUUID\s*\(/,
  /\bgetRandomValues\s*\(/,
  /\bnew WeakRef\s*\(/,
  /\bnew FinalizationRegistry\s*\(/
]

function violations(pkgs: string[], patterns: RegExp[]): string[] {
  const found: string[] = []
  for (const pkg of pkgs) {
    for (const file of sources(join(root, "packages", pkg, "src"))) {
      const lines = readFileSync(file, "utf8").split("\n")
      lines.forEach((line, i) => {
        if (line.trimStart().startsWith("//") || line.trimStart().startsWith("*")) return
        for (const re of patterns) if (re.test(line)) found.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`)
      })
    }
  }
  return found
}

describe("tidy", () => {
  it("simulation code never reads wall time, host randomness, the environment or timers", () => {
    expect(violations(simulationPackages, banned)).toEqual([])
  })

  it("hw, kernel and guest never import effect (Effect is not on the per-access path)", () => {
    expect(violations(noEffectPackages, [/from\s+["']effect(\/[^"']*)?["']/, /import\(\s*["']effect/])).toEqual([])
  })

  it("only the cli touches node:* modules, process and the file system", () => {
    expect(violations(simulationPackages, [/from\s+["']node:/, /\bprocess\./, /from\s+["']fs["']/])).toEqual([])
  })

  it("the tree passes biome ci (format and lint, determinism plugin included)", () => {
    const biome = join(root, "node_modules", ".bin", "biome")
    let output = ""
    try {
      execFileSync(biome, ["ci", ".", "--colors=off"], { cwd: root, stdio: "pipe", encoding: "utf8" })
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string }
      output = `${err.stdout ?? ""}${err.stderr ?? ""}`
    }
    expect(output).toBe("")
  }, 60_000)
})

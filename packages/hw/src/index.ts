export * from "./cpufeature.ts"
export * from "./tlb.ts"

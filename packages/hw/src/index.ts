export * from "./cpufeature.ts"
export * from "./tlb.ts"
export * from "./arch/index.ts"

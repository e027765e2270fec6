import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // integration tests share one kernel: run files one at a time
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})

// `npm run lint` (part of `npm test`) and `npm run format` (the same, fixing what it can).
// typescript-eslint's recommended rules for correctness; @stylistic for the house format, which
// it checks without reflowing hand-laid tables and packed object literals (Prettier would
// rewrite a few thousand lines of them, docs/architecture.md "Checks on every run").
import js from '@eslint/js'
import stylistic from '@stylistic/eslint-plugin'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {linterOptions: {reportUnusedDisableDirectives: 'error'}},
  {ignores: ['dist/**', 'node_modules/**', 'examples/**', 'test/fixtures/**', '**/*.d.ts']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,js,mjs}'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', NodeJS: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', structuredClone: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'writable', queueMicrotask: 'readonly', fetch: 'readonly', setImmediate: 'readonly'},
    },
    plugins: {'@stylistic': stylistic},
    rules: {
      '@stylistic/semi': ['error', 'never'],
      '@stylistic/quotes': ['error', 'single', {avoidEscape: true, allowTemplateLiterals: 'always'}],
      '@stylistic/object-curly-spacing': ['error', 'never'],
      '@stylistic/array-bracket-spacing': ['error', 'never'],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/comma-spacing': 'error',
      '@stylistic/key-spacing': 'error',
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/arrow-parens': ['error', 'always'],
      '@stylistic/arrow-spacing': 'error',
      '@stylistic/indent': ['error', 2, {SwitchCase: 1}],
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/eol-last': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', {max: 1, maxEOF: 0, maxBOF: 0}],
      '@stylistic/no-tabs': 'error',
      '@stylistic/brace-style': ['error', '1tbs', {allowSingleLine: true}],
      '@stylistic/member-delimiter-style': ['error', {multiline: {delimiter: 'none'}, singleline: {delimiter: 'semi', requireLast: false}}],
      '@stylistic/type-annotation-spacing': 'error',
      '@stylistic/space-before-function-paren': ['error', {anonymous: 'always', named: 'never', asyncArrow: 'always'}],
      '@stylistic/function-call-spacing': 'error',
      '@stylistic/semi-spacing': 'error',
      '@stylistic/space-in-parens': 'error',
      '@stylistic/template-curly-spacing': 'error',
      '@stylistic/block-spacing': ['error', 'never'],
      '@stylistic/max-len': ['error', {code: 250, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true, ignoreComments: true}],
      // `catch {}` says on purpose that a failure changes nothing (a process already gone)
      'no-empty': ['error', {allowEmptyCatch: true}],
      // terminal escapes are what some tests look for
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'}],
    },
  },
  {
    // tests and benchmarks poke at parsed JSON of many shapes
    files: ['test/**', 'bench/**'],
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
  {
    // the launcher is CommonJS (bin/package.json): starting Node's ESM loader costs ~5 ms
    files: ['bin/*.js'],
    languageOptions: {sourceType: 'commonjs', globals: {__filename: 'readonly'}},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
)

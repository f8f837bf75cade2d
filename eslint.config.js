// @ts-check
// A small rule set: ESLint's and typescript-eslint's recommended rules (syntax-only, so `npm run lint`
// stays fast), minus the few the codebase deliberately does otherwise. Formatting is Prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'fetch', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'].map((g) => [
    g,
    'readonly',
  ]),
);

export default tseslint.config(
  // Files from before the linter carry disable comments for rules this set does not enable; not worth a warning.
  { linterOptions: { reportUnusedDisableDirectives: 'off' } },
  { ignores: ['node_modules/', 'server/generated/', 'web/dist/', '.data/', '.cache/', 'coverage/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: nodeGlobals } },
  {
    rules: {
      // `_name` marks a parameter a signature needs but the body does not (Express error handlers, callbacks).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // An empty interface extending another names a role (e.g. a store's options); that is kept on purpose.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // `let x = default; try { x = parse() } catch {}` is the idiom for tolerant parsing here.
      'no-useless-assignment': 'off',
    },
  },
  {
    // Tests poke at untyped JSON answers; `any` is kept out of server, protocol and pages (module boundaries).
    files: ['test/**/*.ts', 'bench/**/*.ts', 'loadtest/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-asserted-optional-chain': 'off' },
  },
);

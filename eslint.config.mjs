// ESLint for every JavaScript file of the project: the recommended rules plus a few that catch
// real bugs, and the rules of hooks for the Custom UI. Formatting is Prettier's (.prettierrc.json).
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default [
  {
    ignores: ['**/node_modules/', 'src/generated/', 'build/', 'target/', 'static/*/dist/', 'tests/artifacts/', 'tests/host/fixture/build/', 'dev/.data/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.{js,mjs,jsx}'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: globals.node,
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused (a handler's signature, a rest sibling); the
      // Custom UI imports `React` by habit, which the automatic JSX runtime does not need.
      'no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^(_|React$)', ignoreRestSiblings: true, caughtErrors: 'none' },
      ],
      // `== null` is the one loose comparison the code uses (null or undefined).
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'array-callback-return': 'error',
      'no-self-compare': 'error',
      'no-unmodified-loop-condition': 'error',
      'no-unreachable-loop': 'error',
      'no-throw-literal': 'error',
      'no-new-wrappers': 'error',
      // The code tests for ASCII with `[\x00-\x7f]` on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  // Code that runs in a browser page: the Custom UI, the local host's shell and bridge client,
  // and the browser tests' page callbacks.
  {
    files: ['static/**/*.{js,jsx}', 'dev/host/shell/**', 'dev/host/bridge-client.js', 'tests/browser/**', 'tests/host/**/static/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['static/**/*.{js,jsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
];

import tseslint from 'typescript-eslint';
import boundaries from './tools/eslint/module-boundaries.mjs';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/.next/**', '**/node_modules/**', '.agentmon/**', '.nx/**', 'coverage/**', '**/next-env.d.ts', 'helm/**'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { agentmon: boundaries },
    rules: {
      'agentmon/enforce-module-boundaries': 'error',
      'no-console': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name='only']", message: 'no focused tests' },
        { selector: "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name='skip']", message: 'no skipped tests' },
      ],
    },
  },
  {
    // Tests and scripts may print; services use the pino logger.
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/*.browser-spec.ts', 'test/**', 'bench/**', 'scripts/**', 'web/**'],
    rules: { 'no-console': 'off' },
  },
);

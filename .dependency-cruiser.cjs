// The architecture as rules (docs/decisions/025-architecture-rules-in-dependency-cruiser.md).
// Dependency direction: routes -> domain (app/referrals, app/users, ...) -> app/tenancy, app/crypto,
// app/audit -> app/db. `npm run lint:architecture` checks app/, where the request code lives.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'database-client-behind-tenancy',
      comment:
        'Request code reaches the database only through db.tenant() (RLS context set first): only app/tenancy and app/server, which builds the load context, open a client.',
      severity: 'error',
      from: { path: '^app/', pathNot: '^app/(tenancy|server|db)/' },
      to: { path: '^app/db/client\\.server\\.ts$' },
    },
    {
      name: 'routes-without-queries',
      comment: 'Routes call one function per use case; queries live in app/<domain>/*.server.ts.',
      severity: 'error',
      from: { path: '^app/routes/' },
      to: { path: '(^|/)node_modules/drizzle-orm/' },
    },
    {
      name: 'browser-code-without-server-modules',
      comment:
        'A module that is not *.server.* may reach the browser bundle, so it must not import one. Routes may: Remix removes their loaders and actions, and the build fails if a component uses a server import. Type-only imports vanish at compile time.',
      severity: 'error',
      from: { path: '^app/', pathNot: ['\\.server\\.tsx?$', '^app/routes/', '^app/root\\.tsx$', '^app/entry\\.server\\.tsx$'] },
      to: { path: '\\.server\\.tsx?$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Folders depend one way: a folder that imports another is never imported back by it, even through different modules.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^app/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'No module imports itself back through others.',
      severity: 'error',
      from: { path: '^app/' },
      to: { circular: true },
    },
    {
      name: 'nothing-imports-routes',
      comment: 'Routes are the top of the graph: the domain does not know which page uses it.',
      severity: 'error',
      from: { path: '^app/', pathNot: '^app/routes/' },
      to: { path: '^app/routes/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Colocated unit tests may import across folders (a form helper tested on the domain's schemas).
    exclude: { path: ['(^|/)(build|\\.wrangler|\\.data)/', '\\.test\\.tsx?$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
}

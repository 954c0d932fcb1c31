import { defineConfig } from 'drizzle-kit'

// Generation only. Migrations are applied by `npm run db:migrate` (Drizzle's programmatic
// migrator, which prints errors); never `drizzle-kit push`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './app/db/schema.ts',
  out: './drizzle',
})

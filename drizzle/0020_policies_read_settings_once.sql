-- Every row-level security policy reads the tenant settings (app.clinic_id, app.user_id,
-- app.role) through a sub-select: PostgreSQL evaluates `(SELECT current_setting(...))` once per
-- statement, as an InitPlan, where a bare current_setting() in a policy is evaluated again for
-- every row the policy filters. The predicates are unchanged otherwise, and an index condition on
-- clinic_id still uses the value (docs/decisions/029-begin-rides-with-the-first-statement.md).
DO $$
DECLARE
  p record;
  pattern constant text := 'current_setting\(''(app\.[a-z_]+)''::text, true\)';
  replacement constant text := '(SELECT current_setting(''\1''::text, true))';
BEGIN
  FOR p IN
    SELECT pol.polname, c.relname,
           pg_get_expr(pol.polqual, pol.polrelid) AS qual,
           pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expr
    FROM pg_policy pol
    JOIN pg_class c ON c.oid = pol.polrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
  LOOP
    IF p.qual ~ pattern THEN
      EXECUTE format('ALTER POLICY %I ON public.%I USING (%s)', p.polname, p.relname, regexp_replace(p.qual, pattern, replacement, 'g'));
    END IF;
    IF p.check_expr ~ pattern THEN
      EXECUTE format('ALTER POLICY %I ON public.%I WITH CHECK (%s)', p.polname, p.relname, regexp_replace(p.check_expr, pattern, replacement, 'g'));
    END IF;
  END LOOP;
END
$$;

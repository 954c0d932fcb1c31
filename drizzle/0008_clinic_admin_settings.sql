-- A clinic's admins manage their own clinic's settings (turnaround targets, the local AI
-- endpoint); only a superadmin creates clinics or changes another clinic.
CREATE POLICY clinics_admin_update ON clinics FOR UPDATE TO intakepilot_app
  USING (
    id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) = 'admin'
  )
  WITH CHECK (
    id = nullif(current_setting('app.clinic_id', true), '')::uuid
    AND current_setting('app.role', true) = 'admin'
  );

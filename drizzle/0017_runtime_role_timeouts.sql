-- Time bounds for the runtime role, below the request deadline (~30 s), so that no statement and
-- no forgotten transaction of a request holds a server connection (and, through PgBouncer, a
-- slot of the pool every other request waits for) longer than the request itself may live.
-- Role settings apply when a server connection starts: through PgBouncer in transaction mode
-- that is once per pooled connection, and every transaction on it runs under them.
-- docs/decisions/018-pooled-connections.md
ALTER ROLE intakepilot_app SET statement_timeout = '15s';
--> statement-breakpoint
ALTER ROLE intakepilot_app SET idle_in_transaction_session_timeout = '10s';

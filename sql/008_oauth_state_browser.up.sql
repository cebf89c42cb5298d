-- Binds each pending authorization to the browser that started it: the SHA-256 of a
-- random value set as a cookie by connect/login and required back at the callback, so a
-- state cannot be completed by another browser (login and connect CSRF).
ALTER TABLE oauth_states ADD COLUMN browser_hash TEXT;

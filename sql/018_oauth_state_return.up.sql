-- Where the browser lands after a connect callback: NULL is the operator's frontend
-- (SB_FRONTEND_URL), 'console' is Switchboard's own console on this origin (/console/).
-- Only known words are stored, never a URL from the request, so the callback cannot be
-- turned into an open redirect.
ALTER TABLE oauth_states ADD COLUMN return_to TEXT CHECK (return_to IS NULL OR return_to = 'console');

-- Directory (LDAP / Active Directory) sign-in: a login's refresh tokens remember the
-- scopes the directory's groups granted (NULL: every scope, as for a password login), so
-- a refreshed access token is no wider than the first. The directory identity itself is
-- a user_identities row with provider 'ldap' (005).
ALTER TABLE refresh_tokens ADD COLUMN scopes TEXT;

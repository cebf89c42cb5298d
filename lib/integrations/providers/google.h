/* Google specifics beyond the generic OAuth provider: Google Drive uploads. */
#ifndef SB_GOOGLE_H
#define SB_GOOGLE_H

struct arena;
struct oauth_provider;

/* Uploads one file to Google Drive (multipart upload); *file_id receives Drive's id.
 * Returns 0, or -1 with *reason and *http_status (502 or 504). */
int google_drive_upload(struct arena *a, const struct oauth_provider *p, const char *token, const char *name,
			const char *content, const char **file_id, const char **reason, int *http_status);

struct provider;
struct provider_call;
struct provider_result;
/* The Google token for a Drive call: 0 with *token, or -1 with *r filled: 404 not_found
 * (not connected), 409 integration_disabled, 409 integration_expired, 502/504. */
int google_drive_token(const struct provider_call *c, const struct provider *p, const char **token,
		       struct provider_result *r);
/* GET .../google/drive/files: one page of the user's Drive files (google_drive.c). */
int google_drive_list(const struct provider_call *c, const struct provider *p, struct provider_result *r);
/* GET .../google/drive/files/{id}/content: one file's bytes (or a Workspace export). */
int google_drive_content(const struct provider_call *c, const struct provider *p, struct provider_result *r);

#endif

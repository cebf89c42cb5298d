/* The auth group's handlers: accounts, sessions (token pairs) and the caller's profile. */
#ifndef SB_AUTH_HANDLERS_H
#define SB_AUTH_HANDLERS_H

#include "core/validate.h"
#include "db/db.h"

struct request;
struct json_object;

extern const struct field register_fields[], login_fields[], refresh_fields[];

int handle_register(struct request *rq);
int handle_login(struct request *rq);
int handle_refresh(struct request *rq);
int handle_logout(struct request *rq);
int handle_me(struct request *rq);
int handle_audit_log(struct request *rq);

/* Columns every user query selects, in this order, for user_json(). */
#define USER_COLUMNS_OF(t) t "id, " t "email, " t "name, " SQL_RFC3339(t "created_at") ", " SQL_RFC3339(t "updated_at")
#define USER_COLUMNS	   USER_COLUMNS_OF("")
/* The public view of the user in row r of res (selected with USER_COLUMNS at column off). */
struct json_object *user_json(const PGresult *res, int r, int off);

/* Starts a new refresh-token family for user_id (or continues family_id) and answers
 * 200 with the token pair; user (owned) is added as "user" when not NULL. Must run
 * inside the caller's transaction; commits it. */
int session_issue(struct request *rq, const char *user_id, const char *family_id, struct json_object *user);

#endif

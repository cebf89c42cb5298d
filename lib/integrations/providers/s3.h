/* S3-compatible object storage: what other parts of the library need (export delivery). */
#ifndef SB_PROVIDER_S3_H
#define SB_PROVIDER_S3_H

struct arena;
struct integration;
struct s3_target;

/* The target of a saved s3 row with its secret opened. Returns 0, 1 when the row lacks
 * a setting (endpoint, region, bucket, key id or secret), -1 when the stored secret
 * cannot be opened. */
int s3_saved_target(struct arena *a, const struct integration *row, struct s3_target *t);
/* The saved key prefix ("" when none). */
const char *s3_saved_prefix(const struct integration *row);

/* The "test" action (s3_test.c): write, read back and delete a probe object. */
struct provider;
struct provider_call;
struct provider_result;
int s3_test(const struct provider_call *c, const struct provider *p, struct provider_result *r);

#endif

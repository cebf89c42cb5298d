/* Azure Blob Storage specifics other parts of the library need. */
#ifndef SB_PROVIDER_AZURE_BLOB_H
#define SB_PROVIDER_AZURE_BLOB_H

struct arena;
struct azblob_target;
struct integration;

/* The target of a saved row with its key opened: 0, 1 incomplete, -1 the key cannot be opened. */
int azure_saved_target(struct arena *a, const struct integration *row, struct azblob_target *t);
const char *azure_saved_prefix(const struct integration *row);

/* The "test" action (azure_blob_test.c). */
struct provider;
struct provider_call;
struct provider_result;
int azure_test(const struct provider_call *c, const struct provider *p, struct provider_result *r);

#endif

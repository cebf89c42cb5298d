/* Who did something: the account (NULL for events without one) and where the call came
 * from. Domain code records actors, never HTTP requests, so the worker can act too. */
#ifndef SB_ACTOR_H
#define SB_ACTOR_H

struct actor {
	const char *user_id;	/* NULL: no account (a failed sign-in of an unknown user) */
	const char *ip;		/* NULL: not from a request (the worker) */
	const char *user_agent; /* NULL: unknown */
};

#endif

/* response.h: strict parsing of an endpoint's answer (docs/endpoint.md). */
#ifndef DS_RESPONSE_H
#define DS_RESPONSE_H

#include <stddef.h>

struct ds_response {
	int complete;		/* 1: WORK_COMPLETE with data; 0: WORK_FAIL */
	char *data;		/* response_string bytes (complete only) */
	size_t len;
	int borrowed;		/* data points into the body */
	char reason[160];	/* why it is a failure */
};

/* Reads an HTTP 200 body. Returns 0 when the body is a well-formed answer
 * (r->complete says which), -1 when it is not (r->reason says why). Either
 * way the job's outcome is decided; free r->data after use. The body is
 * scratch space: its strings are decoded where they are written. */
int ds_response_parse(char *body, size_t len, struct ds_response *r);

/* The same, but the response_string stays where it was decoded, in the
 * body, r->data pointing into it (r->borrowed set): the body must outlive
 * r->data, and nothing is allocated. */
int ds_response_parse_in_place(char *body, size_t len, struct ds_response *r);

void ds_response_free(struct ds_response *r);

#endif

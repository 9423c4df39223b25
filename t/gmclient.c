/* gmclient.c: test and demo client over libgearman. Reads one job a line
 * from stdin, "FUNCTION<TAB>WORKLOAD[<TAB>UNIQUE]" (WORKLOAD and UNIQUE may be
 * "hex:..." for bytes),
 * submits them all at once and prints, in input order, one line a job:
 *   N<TAB>OK<TAB>HEX-OF-RESULT | N<TAB>FAIL | N<TAB>PENDING | N<TAB>DUP
 * DUP means more than one final answer came, which must never happen.
 * Exit 0 when every job got exactly one answer, 1 otherwise. */
#include <libgearman-1.0/gearman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/text.h"

struct job {
	char *function;
	char *unique;
	char *workload;
	size_t len;
	int answers;
	int ok;
	char *result;
	size_t result_len;
};

/* Not sscanf("%2x") a pair: glibc's sscanf measures the whole rest of the
 * string each call, quadratic in a 1 MiB workload (a minute of CPU). */
static int
unhex(const char *s, char **out, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2 || (*out = malloc(n / 2 + 1)) == NULL)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = ds_hex_digit(s[2 * i]), lo = ds_hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		(*out)[i] = (char)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

static gearman_return_t
on_complete(gearman_task_st *task)
{
	struct job *j = gearman_task_context(task);
	size_t n = gearman_task_data_size(task);

	j->answers++;
	j->ok = 1;
	free(j->result);
	j->result = malloc(n + 1);
	if (n)
		memcpy(j->result, gearman_task_data(task), n);
	j->result_len = n;
	return GEARMAN_SUCCESS;
}

static gearman_return_t
on_fail(gearman_task_st *task)
{
	struct job *j = gearman_task_context(task);

	j->answers++;
	j->ok = 0;
	return GEARMAN_SUCCESS;
}

static int
read_jobs(struct job **jobs, size_t *n)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		char *tab, *u;
		struct job *j;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			*jobs = realloc(*jobs, alloc * sizeof(**jobs));
		}
		j = &(*jobs)[(*n)++];
		memset(j, 0, sizeof(*j));
		j->function = strdup(line);
		if ((u = strchr(tab + 1, '\t')) != NULL) {
			size_t ulen;

			*u++ = '\0';
			if (strncmp(u, "hex:", 4) == 0) {
				if (unhex(u + 4, &j->unique, &ulen) < 0)
					return -1;
				j->unique[ulen] = '\0';
			} else
				j->unique = strdup(u);
		}
		if (strncmp(tab + 1, "hex:", 4) == 0) {
			if (unhex(tab + 5, &j->workload, &j->len) < 0)
				return -1;
		} else {
			j->workload = strdup(tab + 1);
			j->len = strlen(tab + 1);
		}
	}
	free(line);
	return 0;
}

int
main(int argc, char **argv)
{
	gearman_client_st *c;
	struct job *jobs = NULL;
	size_t n = 0, bad = 0;
	int timeout_ms = 60000, opt;
	const char *server = "127.0.0.1:4730";
	gearman_return_t rc;

	while ((opt = getopt(argc, argv, "s:t:")) != -1) {
		if (opt == 's')
			server = optarg;
		else if (opt == 't')
			timeout_ms = atoi(optarg) * 1000;
		else {
			fprintf(stderr, "usage: gmclient [-s HOST:PORT] "
			    "[-t SECONDS] < jobs\n");
			return 2;
		}
	}
	if (read_jobs(&jobs, &n) < 0) {
		fprintf(stderr, "gmclient: bad hex workload\n");
		return 2;
	}
	c = gearman_client_create(NULL);
	if (gearman_client_add_servers(c, server) != GEARMAN_SUCCESS) {
		fprintf(stderr, "gmclient: %s\n", gearman_client_error(c));
		return 2;
	}
	gearman_client_set_timeout(c, timeout_ms);
	gearman_client_set_complete_fn(c, on_complete);
	gearman_client_set_fail_fn(c, on_fail);
	for (size_t i = 0; i < n; i++) {
		char unique[64];

		snprintf(unique, sizeof(unique), "gm-%d-%zu", (int)getpid(), i);
		if (gearman_client_add_task(c, NULL, &jobs[i], jobs[i].function,
		    jobs[i].unique ? jobs[i].unique : unique, jobs[i].workload, jobs[i].len, &rc) == NULL) {
			fprintf(stderr, "gmclient: add_task: %s\n",
			    gearman_strerror(rc));
			return 2;
		}
	}
	rc = gearman_client_run_tasks(c);
	/* the return code's name first: a caller tells "the server went
	 * away" (LOST_CONNECTION, COULD_NOT_CONNECT, ...) from TIMEOUT */
	if (rc != GEARMAN_SUCCESS)
		fprintf(stderr, "gmclient: run_tasks: %s: %s\n",
		    gearman_strerror(rc), gearman_client_error(c));
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];

		if (j->answers != 1) {
			bad++;
			printf("%zu\t%s\n", i, j->answers ? "DUP" : "PENDING");
			continue;
		}
		if (!j->ok) {
			printf("%zu\tFAIL\n", i);
			continue;
		}
		printf("%zu\tOK\t", i);
		for (size_t k = 0; k < j->result_len; k++)
			printf("%02x", (unsigned char)j->result[k]);
		printf("\n");
	}
	gearman_client_free(c);
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].function);
		free(jobs[i].unique);
		free(jobs[i].workload);
		free(jobs[i].result);
	}
	free(jobs);
	return bad ? 1 : 0;
}

/* floor.c: the floor of a process of Driveshaft's design, for make bench.
 * It links what driveshaft-worker links (libgearman, libcurl, cJSON), makes
 * one curl handle and one gearman worker handle, and then:
 *
 *   floor                         sleeps until a signal: its unique set
 *                                 size (USS) is what every exec'd worker
 *                                 costs before it does anything;
 *   floor --server H:P --function F
 *                                 registers F with gearmand and waits for
 *                                 jobs (answering each with nothing): the
 *                                 least a worker does to be counted as
 *                                 started, for the start-up floor (500 of
 *                                 them spawned back to back by
 *                                 spawnloop.c). */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libgearman-1.0/gearman.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *
nothing(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
	(void)job;
	(void)ctx;
	*size = 0;
	*ret = GEARMAN_SUCCESS;
	return NULL;
}

static int
serve(gearman_worker_st *gw, const char *server, const char *function)
{
	if (gearman_worker_add_servers(gw, server) != GEARMAN_SUCCESS ||
	    gearman_worker_add_function(gw, function, 0, nothing, NULL) !=
	    GEARMAN_SUCCESS) {
		fprintf(stderr, "floor: %s\n", gearman_worker_error(gw));
		return 2;
	}
	for (;;) {
		gearman_return_t rc = gearman_worker_work(gw);

		if (rc != GEARMAN_SUCCESS && rc != GEARMAN_TIMEOUT &&
		    rc != GEARMAN_NO_JOBS && rc != GEARMAN_IO_WAIT) {
			fprintf(stderr, "floor: %s\n", gearman_worker_error(gw));
			return 1;
		}
	}
}

int
main(int argc, char **argv)
{
	gearman_worker_st *gw;
	CURL *c;
	cJSON *j;
	int rc = 0;

	if (argc != 1 && (argc != 5 || strcmp(argv[1], "--server") != 0 ||
	    strcmp(argv[3], "--function") != 0)) {
		fprintf(stderr, "usage: floor [--server HOST:PORT --function "
		    "NAME]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	gw = gearman_worker_create(NULL);
	j = cJSON_CreateObject();	/* keeps the cJSON link */
	if (c == NULL || gw == NULL || j == NULL)
		return 1;
	if (argc == 5) {
		rc = serve(gw, argv[2], argv[4]);
	} else {
		printf("ready\n");
		fflush(stdout);
		pause();
	}
	cJSON_Delete(j);
	gearman_worker_free(gw);
	curl_easy_cleanup(c);
	return rc;
}

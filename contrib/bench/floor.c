/* floor.c: the floor of a process of Driveshaft's design, for make bench.
 * It links what driveshaft-worker links (libgearman, libcurl, cJSON), makes
 * one curl handle and one gearman worker handle, and sleeps until a signal:
 * its unique set size (USS) is what every exec'd worker costs before it
 * does anything. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libgearman-1.0/gearman.h>
#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	gearman_worker_st *gw;
	CURL *c;
	cJSON *j;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	gw = gearman_worker_create(NULL);
	j = cJSON_CreateObject();	/* keeps the cJSON link */
	if (c == NULL || gw == NULL || j == NULL)
		return 1;
	printf("ready\n");
	fflush(stdout);
	pause();
	cJSON_Delete(j);
	gearman_worker_free(gw);
	curl_easy_cleanup(c);
	return 0;
}

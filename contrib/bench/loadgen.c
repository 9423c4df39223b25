/* loadgen.c: the load generator of make bench, on libgearman.
 *
 * Submits N foreground jobs keeping C of them in flight (C threads, each
 * with its own gearmand connection, one gearman_client_do() at a time),
 * checks every result against the expected bytes, and prints one line:
 *   jobs=N ok=N bad=N seconds=S jobs_per_s=R p50_us=P p99_us=P
 * Exit 0 only when every job came back with the expected result.
 *
 *   loadgen -s HOST:PORT -f FUNCTION -n JOBS -c CONCURRENCY
 *           [-W WORKLOAD_FILE] [-R EXPECTED_RESULT_FILE] [-t SECONDS]
 * Without -W a job's workload is the text "job I"; without -R the expected
 * result is "ok". */
#include <libgearman-1.0/gearman.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *server = "127.0.0.1:4730", *function = "Bench";
static long njobs = 1000;
static int timeout_ms = 120000;
static char *workload, *expect = "ok";
static size_t workload_len, expect_len = 2;
static atomic_long next_job, ok_jobs, bad_jobs;
static int64_t *rtt_ns;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0) {
		perror(path);
		exit(2);
	}
	rewind(f);
	if ((p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void
one_job(gearman_client_st *c, long i)
{
	char unique[64], text[32];
	const char *w = workload;
	size_t wl = workload_len, rl = 0;
	gearman_return_t rc;
	int64_t t0;
	void *r;

	snprintf(unique, sizeof(unique), "lg-%d-%ld", (int)getpid(), i);
	if (w == NULL) {
		wl = (size_t)snprintf(text, sizeof(text), "job %ld", i);
		w = text;
	}
	t0 = now_ns();
	r = gearman_client_do(c, function, unique, w, wl, &rl, &rc);
	rtt_ns[i] = now_ns() - t0;
	if (rc == GEARMAN_SUCCESS && rl == expect_len &&
	    (rl == 0 || (r && memcmp(r, expect, rl) == 0)))
		atomic_fetch_add(&ok_jobs, 1);
	else if (atomic_fetch_add(&bad_jobs, 1) < 3)
		fprintf(stderr, "loadgen: job %ld: %s, %zu bytes\n", i,
		    gearman_strerror(rc), rl);
	free(r);
}

static void *
run(void *arg)
{
	gearman_client_st *c = gearman_client_create(NULL);
	long i;

	(void)arg;
	if (c == NULL || gearman_client_add_servers(c, server) !=
	    GEARMAN_SUCCESS) {
		fprintf(stderr, "loadgen: cannot create a client\n");
		exit(2);
	}
	gearman_client_set_timeout(c, timeout_ms);
	while ((i = atomic_fetch_add(&next_job, 1)) < njobs)
		one_job(c, i);
	gearman_client_free(c);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double
pct(double p)
{
	long k = (long)(p * (double)(njobs - 1) + 0.5);

	return (double)rtt_ns[k] / 1000.0;
}

int
main(int argc, char **argv)
{
	int conc = 1, opt;
	pthread_t *t;
	int64_t t0, took;

	while ((opt = getopt(argc, argv, "s:f:n:c:W:R:t:")) != -1) {
		switch (opt) {
		case 's': server = optarg; break;
		case 'f': function = optarg; break;
		case 'n': njobs = atol(optarg); break;
		case 'c': conc = atoi(optarg); break;
		case 'W': workload = slurp(optarg, &workload_len); break;
		case 'R': expect = slurp(optarg, &expect_len); break;
		case 't': timeout_ms = atoi(optarg) * 1000; break;
		default:
			fprintf(stderr, "usage: loadgen -s HOST:PORT -f FUNCTION "
			    "-n JOBS -c CONCURRENCY [-W FILE] [-R FILE] "
			    "[-t SECONDS]\n");
			return 2;
		}
	}
	if (njobs < 1 || conc < 1)
		return 2;
	if (conc > njobs)
		conc = (int)njobs;
	rtt_ns = calloc((size_t)njobs, sizeof(*rtt_ns));
	t = calloc((size_t)conc, sizeof(*t));
	t0 = now_ns();
	for (int i = 0; i < conc; i++)
		if (pthread_create(&t[i], NULL, run, NULL) != 0) {
			fprintf(stderr, "loadgen: pthread_create failed\n");
			return 2;
		}
	for (int i = 0; i < conc; i++)
		pthread_join(t[i], NULL);
	took = now_ns() - t0;
	qsort(rtt_ns, (size_t)njobs, sizeof(*rtt_ns), cmp);
	printf("jobs=%ld ok=%ld bad=%ld seconds=%.3f jobs_per_s=%.1f "
	    "p50_us=%.1f p99_us=%.1f\n", njobs, atomic_load(&ok_jobs),
	    atomic_load(&bad_jobs), (double)took / 1e9,
	    (double)njobs * 1e9 / (double)took, pct(0.50), pct(0.99));
	return atomic_load(&ok_jobs) == njobs ? 0 : 1;
}

<?php
/*
 * fpm_count.php: counts each run of a job, then runs it with
 * contrib/endpoint/job.php unchanged. One line per run (its workload) goes
 * to the file named by ?log= so that a test can see a job that ran twice.
 * A workload "sleep N" sleeps first. The JSON body is read here and again by job.php (php://input can be).
 */
$in = json_decode((string)file_get_contents('php://input'), true);
$w = is_array($in) ? (string)($in['workload'] ?? '?') : (string)($_POST['workload'] ?? '?');
file_put_contents((string)$_GET['log'], $w . "\n", FILE_APPEND | LOCK_EX);
if (strncmp($w, 'sleep ', 6) === 0) {
    sleep(30);  /* a job in hand when the test kills php-fpm */
}
require __DIR__ . '/../../contrib/endpoint/job.php';

<?php
/*
 * fpm_status.php: answers every job with the HTTP status in ?code= and a
 * well-formed body, so that a test can see a FastCGI pool take its HTTP
 * code from the CGI Status: header, as an HTTP pool takes the status line.
 */
http_response_code((int)($_GET['code'] ?? 200));
header('Content-Type: application/json');
echo '{"gearman_ret": 0, "response_string": "status"}';
